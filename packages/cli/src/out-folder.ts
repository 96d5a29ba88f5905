/**
 * Paths a command is given. Folders it writes into (--out of prepare and convert): created with
 * makeDirs (never Node's recursive mkdir, which hangs under /proc), checked writable, and new or
 * empty: writing model.safetensors and config.json into a folder that holds them (a training
 * run's checkpoint, the model being converted reached through a link, a project's own
 * config.json) replaced them with no way back. Inputs: missing, or a loop of links, said so.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import * as G from '@mini/gpt/node';
import { UsageError } from './ui.js';

/** Why a folder could not be made or written: makeDirs names a file on the way; else the error's code (EROFS, EACCES, ELOOP...). */
export function folderProblem(e: unknown): string {
  const error = e as NodeJS.ErrnoException;
  if (error.code === 'ENOTDIR' && error.path) return error.message;
  return error.code ?? error.message;
}

/**
 * Creates `out` and its missing parents and checks that it can be written. Returns the topmost
 * folder it created (undefined when `out` was there).
 * @param label how the error names the folder: "--out ", "--resume ", "the run folder "
 * @param advice what to do, appended after "; " (empty: nothing)
 * @throws UsageError "<label><out>: cannot create or write this folder (<code>)[; advice]"
 */
export async function makeOutFolder(out: string, label: string, advice = ''): Promise<string | undefined> {
  try {
    const created = await G.makeDirs(out);
    await access(out, constants.W_OK);
    return created;
  } catch (e) {
    throw new UsageError(
      `${label}${out}: cannot create or write this folder (${folderProblem(e)})${advice ? `; ${advice}` : ''}`,
    );
  }
}

/**
 * Refuses an `out` that exists and is not an empty folder (a link to one counts as that folder).
 * @param flag how the error names it ("--out")
 * @param shown `out` as the user typed it
 * @throws UsageError "<flag> <shown>: not an empty folder; choose a new one", or for a path
 *   that cannot be looked at (a loop of links) "<flag> <shown>: <why>"
 */
export function refuseUsedFolder(out: string, flag: string, shown: string): void {
  let entries: string[];
  try {
    const info = statSync(out, { throwIfNoEntry: false });
    if (!info) return;
    entries = info.isDirectory() ? readdirSync(out) : ['(a file)'];
  } catch (e) {
    throw new UsageError(`${flag} ${shown}: ${G.fileProblem(e as NodeJS.ErrnoException)}`);
  }
  if (entries.length > 0) throw new UsageError(`${flag} ${shown}: not an empty folder; choose a new one`);
}

/** Whether two existing paths are the same folder, through links and `..` (false if either cannot be resolved). */
export function sameFolder(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * Why `path` cannot be used as an input, or null when it exists: "no such file or folder", or
 * the file system's reason (a loop of links: "too many symbolic links").
 */
export function missingInput(path: string): string | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ? null : 'no such file or folder';
  } catch (e) {
    return G.fileProblem(e as NodeJS.ErrnoException);
  }
}
