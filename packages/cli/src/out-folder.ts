/**
 * Paths a command is given. Folders it writes into (--out of prepare and convert): created with
 * makeDirs (never Node's recursive mkdir, which hangs under /proc), checked writable, and new or
 * empty: writing model.safetensors and config.json into a folder that holds them (a training
 * run's checkpoint, the model being converted reached through a link, a project's own
 * config.json) replaced them with no way back. Inputs: missing, or a loop of links, said so.
 */
import { existsSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import * as G from '@mini/gpt/node';
import { onStopSignals, signalExitCode, signalLabel, stopNotice } from './signals.js';
import { UsageError, stopProgress } from './ui.js';

/**
 * Why a folder could not be made or written: makeDirs names a file on the way; a link that leads
 * nowhere says so (brokenLink); else the error's code (EROFS, EACCES...).
 */
export function folderProblem(e: unknown): string {
  const error = e as NodeJS.ErrnoException;
  if (error.code === 'ENOTDIR' && error.path) return error.message;
  return (error.path && G.brokenLink(error.path)) || (error.code ?? error.message);
}

/**
 * Creates `out` and its missing parents and checks that it can be written. Returns the topmost
 * folder it created (undefined when `out` was there), also given to `onCreated` before the next
 * await (a stop signal handled there can take the new folder back).
 * @param label how the error names the folder: "--out ", "--resume ", "the run folder "
 * @param advice what to do, appended after "; " (empty: nothing)
 * @throws UsageError "<label><out>: cannot create or write this folder (<code>)[; advice]"
 */
export async function makeOutFolder(
  out: string,
  label: string,
  advice = '',
  onCreated: (created: string | undefined) => void = () => {},
): Promise<string | undefined> {
  try {
    const created = await G.makeDirs(out);
    onCreated(created);
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
 * Why `path` cannot be used as an input, or null when it exists: "no such file or folder", a
 * link that leads nowhere (brokenLink), or the file system's reason.
 */
export function missingInput(path: string): string | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ? null : (G.brokenLink(path) ?? 'no such file or folder');
  } catch (e) {
    return G.fileProblem(e as NodeJS.ErrnoException);
  }
}

/**
 * Takes back what a command wrote into `out`: `out` was new or empty (refuseUsedFolder), so
 * everything in it is the command's; a folder that existed (empty) stays, emptied. `made`: the
 * topmost folder the command created for `out` (makeOutFolder), removed whole.
 */
export function removeUnfinished(out: string, existed: boolean, made?: string): void {
  if (!existed) rmSync(made ?? out, { recursive: true, force: true });
  else if (existsSync(out))
    for (const name of readdirSync(out)) rmSync(join(out, name), { recursive: true, force: true });
}

/**
 * Runs `write`, which fills `out` (new or empty: refuseUsedFolder); when it fails, takes back
 * what it wrote (removeUnfinished) and rethrows, so that a retry finds `out` as it was. A failed
 * write (an errno code such as EFBIG, ENOSPC or EACCES from a write, or on a path in `out`)
 * becomes one line: "could not write the <what> to <out>: <fileProblem> (<code>); the unfinished
 * <what> was removed". Other errors (a bad input) pass as they are.
 * @param made the topmost folder the command created for `out` (makeOutFolder's result)
 * @param what what `out` holds: "corpus", "model"
 */
export async function writeOrTakeBack<T>(
  out: string,
  existed: boolean,
  made: string | undefined,
  what: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (e) {
    removeUnfinished(out, existed, made);
    const error = e as NodeJS.ErrnoException;
    // Only the writing's own errors: a write (EFBIG and ENOSPC name no path) or a path in `out`;
    // an input that cannot be read keeps its own message.
    const inOut =
      error?.path !== undefined && (resolve(error.path) === out || resolve(error.path).startsWith(out + sep));
    const writing = error?.syscall === 'write' || error?.syscall === 'fsync' || inOut;
    if (typeof error?.code !== 'string' || !writing) throw e;
    const why = G.fileProblem(error);
    throw new Error(
      `could not write the ${what} to ${out}: ${why}${why.includes(error.code) ? '' : ` (${error.code})`}; the unfinished ${what} was removed`,
      { cause: e },
    );
  }
}

/**
 * From now on a stop signal (Ctrl-C, SIGTERM, SIGHUP) takes back what `command` wrote into `out`
 * and the folders it made for it (removeUnfinished, once more at exit for a write still in
 * flight), says so in one line ("Ctrl-C: convert stopped; the unfinished model in <out> was
 * removed") and exits with the signal's code. Call it before `out` is made (after
 * refuseUsedFolder, with `existed` read then), so that a folder made a moment before the signal
 * goes too. Returns the callback to give makeOutFolder as its onCreated (the topmost folder made).
 * @param what what `out` would have held: "corpus", "model"
 * @param replaces the removal of the stop handler this one takes over from: called once this one
 *   is on (with no listener in between, a signal already received would be dropped)
 */
export function removeOutOnStop(
  command: string,
  out: string,
  existed: boolean,
  what: string,
  replaces: () => void = () => {},
): (made: string | undefined) => void {
  let made: string | undefined;
  onStopSignals((signal) => {
    stopProgress();
    removeUnfinished(out, existed, made);
    process.on('exit', () => removeUnfinished(out, existed, made));
    stopNotice(`${signalLabel(signal)}: ${command} stopped; the unfinished ${what} in ${out} was removed`);
    process.exit(signalExitCode(signal));
  });
  replaces();
  return (topmost) => {
    made = topmost;
  };
}
