/**
 * The temporary files writeFileAtomic leaves when the process is killed mid-write (kill -9):
 * ".losses.csv.<12 hex>.tmp" and the like beside the run's reports. Only those names are ours.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const OURS = /^\.(losses\.csv|loss\.svg|loss\.png)\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes the reports' leftover temporary files in the run folder `out` (call it while holding
 * the run's lock: a live run's temporary file is then not there). Returns the names removed.
 */
export function removeStaleReportTemps(out: string): string[] {
  let names: string[];
  try {
    names = readdirSync(out).filter((name) => OURS.test(name));
  } catch {
    return [];
  }
  for (const name of names) rmSync(join(out, name), { force: true }); // a link is unlinked, never followed
  return names;
}
