/**
 * The run folder: created and writable (prepareOut), room for the checkpoints (refuseFullDisk),
 * one train at a time (lockRun), not over another run (refuseExistingRun), and taken back when
 * a run stops before writing anything (removeIfEmpty).
 */
import { readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as G from '@mini/gpt/node';
import { makeOutFolder } from '../out-folder.js';
import { UsageError, formatBytes, shellQuote } from '../ui.js';
import type { RunSettings } from './settings.js';

/**
 * The folder --out names, created and writable, or a usage error naming --out. Returns the
 * topmost folder it created (undefined when `out` was there): removeIfEmpty takes it back
 * when the run stops before writing anything.
 */
export function prepareOut(
  out: string,
  typed: boolean,
  resuming = false,
  onCreated: (created: string | undefined) => void = () => {},
): Promise<string | undefined> {
  // --resume refuses --out: a resumed run writes where it is, so a read-only one must be copied.
  if (resuming)
    return makeOutFolder(
      out,
      '--resume ',
      'to resume it, copy the run folder somewhere writable and give the copy to --resume',
      onCreated,
    );
  return typed
    ? makeOutFolder(out, '--out ', '', onCreated)
    : makeOutFolder(out, 'the run folder ', 'choose one with --out', onCreated);
}

/**
 * Refuses a run whose checkpoints cannot fit in `out`'s file system, before the model is made: a
 * full disk met at the first save lost the epoch trained before it. A save writes the new
 * checkpoint beside the last one, then swaps them, so from the second save on two are on disk
 * at once (a resumed run has one there already).
 */
export function refuseFullDisk(
  out: string,
  flag: string,
  modelBytes: number,
  optimizerState: boolean,
  saves: number,
  resuming: boolean,
): void {
  const perSave = modelBytes * (optimizerState ? 3 : 1);
  const needed = perSave * (!resuming && saves > 1 ? 2 : 1);
  const { bavail, bsize } = statfsSync(out);
  const free = bavail * bsize;
  if (free >= needed) return;
  const what = `${formatBytes(modelBytes)} model${optimizerState ? ` + ${formatBytes(2 * modelBytes)} optimizer state` : ''}${needed > perSave ? ', twice: the new one beside the last one' : ''}`;
  // A resumed run cannot take --out or drop its optimizer state: advise only what it accepts.
  const smaller =
    optimizerState && !resuming
      ? `, or keep the model only with --no-optimizer-state (${formatBytes(needed / 3)})`
      : '';
  const elsewhere = resuming
    ? 'free some space, or copy the run folder to a larger disk and --resume the copy'
    : 'free some space or choose another --out';
  throw new UsageError(
    `${flag}${out}: ${formatBytes(free)} free there, but the run's checkpoints need ${formatBytes(needed)} (${what}); ${elsewhere}${smaller}`,
  );
}

// Write errors that mean "no room": the advice is the same for all three.
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * A save that failed for want of room, as one line saying what is kept and what to type
 * (flags `--resume` accepts: it refuses --out and --no-optimizer-state; --out only where no
 * resumable checkpoint exists); any other error as is.
 * saveCheckpoint removed its unfinished folder: the last checkpoint (of `savedStep`) is whole.
 */
export function explainNoRoom(
  e: unknown,
  out: string,
  checkpointDir: string,
  savedStep: number | null,
  resumable: boolean,
): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !NO_ROOM.has(code)) return e;
  const why = `${G.fileProblem(e as NodeJS.ErrnoException)} (${code}${(e as NodeJS.ErrnoException).path ? `, ${(e as NodeJS.ErrnoException).path}` : ''})`;
  const again = 'free some space, or choose another --out on a larger disk, and start again';
  const advice =
    savedStep === null
      ? `no checkpoint was saved before it; ${again}`
      : !resumable
        ? `the model of step ${savedStep} in ${checkpointDir} is whole (saved without optimizer state, so not resumable); ${again}`
        : `the checkpoint of step ${savedStep} in ${checkpointDir} is whole; free some space, or copy the run folder to a larger disk, then continue with --resume ${shellQuote(out)} (or --resume the copy)`;
  return new Error(`could not save the run: ${why}; ${advice}`);
}

/** Whether process `pid` exists (one of another user's answers EPERM: it exists too). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Holds `<out>/.mini-gpt.lock` (this process's pid) while a run writes there, so a second
 * `train` on the same folder is refused instead of saving over the first one's checkpoint.
 * A lock whose process is gone (killed) is taken over. Returns the release (also run at exit).
 */
export function lockRun(out: string, flag: string): () => void {
  const file = join(out, '.mini-gpt.lock');
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new UsageError(`${flag}${out}: cannot write in this folder (${(e as NodeJS.ErrnoException).code})`);
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new UsageError(`${flag}${out}: another mini-gpt train (pid ${pid}) is writing in this folder`);
      rmSync(file, { force: true });
    }
  }
  // Only while the lock is still this process's: one taken over (ours looked dead) is another run's.
  const release = () => {
    let holder = '';
    try {
      holder = readFileSync(file, 'utf8');
    } catch {}
    if (holder === String(process.pid)) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return () => {
    process.off('exit', release);
    release();
  };
}

/** Removes `dir` when no file was written under it (folders only): a run that never started leaves nothing. */
export function removeIfEmpty(dir: string): void {
  const empty = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).every((e) => e.isDirectory() && empty(join(d, e.name)));
  try {
    if (empty(dir)) rmSync(dir, { recursive: true });
  } catch {
    /* a folder we cannot read or remove is left as it is */
  }
}

/** A usage error when `out` already holds a run (finished or not): a new run would overwrite it. */
export async function refuseExistingRun(out: string, typed: boolean): Promise<void> {
  const summary = await G.readCheckpointSummary(join(out, 'checkpoint')).catch(() => null);
  if (!summary) return;
  const epochs = (summary.extra as RunSettings | null)?.flags?.epochs;
  const finished =
    epochs !== undefined && summary.state.epoch >= epochs
      ? ` (with --epochs above ${epochs}: it finished its ${epochs} epoch${epochs === 1 ? '' : 's'})`
      : '';
  const file = join(relative(out, summary.folder), 'trainer_state.json');
  throw new UsageError(
    `${typed ? '--out' : 'the run folder'} ${out} already holds a training run (${file}): continue it with --resume ${shellQuote(out)}${finished}, or choose another folder with --out`,
  );
}
