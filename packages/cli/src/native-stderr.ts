/**
 * Dawn writes its adapter diagnostics (multi-line Vulkan warnings ending in a C++ source line
 * that reads like a crash) with fprintf straight to file descriptor 2, where JavaScript cannot
 * catch them. Node has no dup2, so `quietNativeStderr` points descriptor 2 at /dev/null the
 * only way it can: close 2, open /dev/null (the lowest free descriptor: 2 again), and after
 * `fn` close it and reopen the original through /proc/self/fd/<saved copy>.
 *
 * Only where that reopening gives back the same stream: Linux (/proc), and descriptor 2 a
 * terminal or a pipe. A regular file (`2> log`, `> log 2>&1`) is left alone: its reopened
 * descriptor would have its own file offset, and stdout's writes would overwrite stderr's.
 * A socket (the "pipes" Node's child_process makes) cannot be reopened at all: left alone too.
 * JavaScript's own stderr writes during `fn` may be lost too: call it around a probe only.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';

function reopenable(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = fstatSync(2);
    return stat.isCharacterDevice() || stat.isFIFO();
  } catch {
    return false;
  }
}

/** Runs `fn` with native writes to stderr discarded (where that can be undone safely; see above). */
export async function quietNativeStderr<T>(fn: () => Promise<T>): Promise<T> {
  if (!reopenable()) return fn();
  let saved: number;
  try {
    saved = openSync('/proc/self/fd/2', 'a');
  } catch {
    return fn(); // e.g. a socket: /proc cannot reopen it
  }
  // Close-then-open back to back, with no await between: nothing else takes descriptor 2.
  closeSync(2);
  const devNull = openSync('/dev/null', 'a');
  try {
    return await fn();
  } finally {
    closeSync(devNull);
    const restored = openSync(`/proc/self/fd/${saved}`, 'a');
    if (restored !== 2) process.exitCode = 70; // unreachable unless 0 or 1 was closed: a loud exit code beats lost errors
    closeSync(saved);
  }
}
