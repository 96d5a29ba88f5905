/** Node file adapters for the portable modules: ByteSource/ByteSink over files, atomic writes. */
import { MiniGptError } from '@mini/tensor';
import { randomBytes } from 'node:crypto';
import { lstatSync, readlinkSync, statSync, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import type { ByteSink, ByteSource } from '../safetensors.js';

/** Bytes per read call: large enough for page-cache speed, small enough to spread over several reads at once. */
const READ_BLOCK = 32 * 2 ** 20;
/**
 * Reads in flight at once (libuv's thread pool has 4 threads): the kernel's copy out of the
 * page cache runs on several cores instead of one, and page faults of fresh destination memory
 * overlap (bench: load_rate_<size>_<dtype>).
 */
const READS_IN_FLIGHT = 4;

/**
 * Why `path` cannot be reached when the reason is a link that leads nowhere, at `path` or at a
 * folder on its way; null otherwise (`path` resolves, or is simply missing). "a link to
 * <target>, which does not exist", or "a link to <target> that leads back to itself (a loop of
 * links)", with "<folder> is " in front when the link is a folder on the way. The target is shown
 * as the link holds it (a relative one stays relative). A user who sees the name in `ls` is
 * otherwise told it does not exist.
 */
export function brokenLink(path: string): string | null {
  for (let at = path; ; ) {
    let link: ReturnType<typeof lstatSync>;
    try {
      link = lstatSync(at, { throwIfNoEntry: false });
    } catch {
      return null; // a file in the middle of the path, no permission: not a link's fault
    }
    if (link?.isSymbolicLink()) {
      let code: string | undefined;
      try {
        statSync(at);
        return null;
      } catch (e) {
        code = (e as NodeJS.ErrnoException).code;
      }
      const why =
        code === 'ELOOP'
          ? `a link to ${readlinkSync(at)} that leads back to itself (a loop of links)`
          : code === 'ENOENT'
            ? `a link to ${readlinkSync(at)}, which does not exist`
            : null;
      return why && at !== path ? `${at} is ${why}` : why;
    }
    if (link) return null; // there, and no link: what is missing is below it
    const up = dirname(at);
    if (up === at) return null;
    at = up;
  }
}

/**
 * A file system error's words for a user: the reason, without Node's code and the repeated path.
 * A missing path that is a broken link (or under one) says so (brokenLink).
 */
export function fileProblem(e: NodeJS.ErrnoException): string {
  if ((e.code === 'ENOENT' || e.code === 'ELOOP') && e.path) {
    const link = brokenLink(e.path);
    if (link) return link;
  }
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'a read-only file system',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is used up',
    EFBIG: 'a file would pass the largest size allowed here (ulimit -f, or the file system)',
    EISDIR: 'a folder, not a file',
    ENOTDIR: 'a part of the path is not a folder',
    ELOOP: 'too many symbolic links',
    EMFILE: 'too many open files',
  };
  return (e.code && reasons[e.code]) ?? e.message;
}

/** A file that is missing, unreadable or not a regular file; the message starts with its path. */
export class FileError extends MiniGptError {
  override name = 'FileError';
  /** Whether the path exists but is no regular file (a folder, a device, a pipe, a socket). */
  constructor(
    message: string,
    readonly notAFile = false,
  ) {
    super(message);
  }
}

/**
 * The size in bytes of the regular file at `path`. Throws FileError "<path>: <why>" for a missing
 * or unreadable file, a folder, and a device, pipe or socket: opening a pipe waits for a writer
 * for ever, and /dev/zero has no end.
 */
export async function regularFileSize(path: string): Promise<number> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new FileError(`${path}: ${fileProblem(e)}`);
  });
  if (info.isDirectory()) throw new FileError(`${path}: a folder, not a file`, true);
  if (!info.isFile()) throw new FileError(`${path}: not a regular file (a device, pipe or socket)`, true);
  return info.size;
}

/**
 * A ByteSource reading a file at offsets (never the whole file at once). Throws FileError for
 * anything regularFileSize refuses.
 */
export async function fileSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  await regularFileSize(path);
  const handle = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new FileError(`${path}: ${fileProblem(e)}`);
  });
  const { size } = await handle.stat();
  /** Fills out[from, to) from the file at offset + from. */
  const readRange = async (offset: number, out: Uint8Array, from: number, to: number) => {
    for (let done = from; done < to; ) {
      const { bytesRead } = await handle.read(out, done, to - done, offset + done);
      if (bytesRead === 0)
        throw new Error(`${path}: file ended at ${offset + done} while reading ${out.byteLength} bytes at ${offset}`);
      done += bytesRead;
    }
  };
  // Straight into the caller's memory (a tensor's storage): large reads, several at once, no copy.
  const readInto = async (offset: number, out: Uint8Array) => {
    const blocks = Math.ceil(out.byteLength / READ_BLOCK);
    let next = 0;
    const worker = async () => {
      for (let b = next++; b < blocks; b = next++)
        await readRange(offset, out, b * READ_BLOCK, Math.min(out.byteLength, (b + 1) * READ_BLOCK));
    };
    await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, blocks) }, worker));
  };
  return {
    name: path,
    size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      await readInto(offset, out);
      return out;
    },
    readInto,
    close: () => handle.close(),
  };
}

/**
 * Writes all of `bytes` to `handle` at `position` (at the file's offset when null).
 * A single write may take fewer bytes than asked and report no error: the one that reaches
 * a file size limit (`ulimit -f`) or fills the disk. Writing the rest then fails with the
 * reason (EFBIG, ENOSPC), where taking the first answer as done would leave a file cut short
 * that passes for whole.
 * @throws the write's error (a NodeJS.ErrnoException)
 */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number | null = null): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const at = position === null ? null : position + done;
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, at);
    done += wrote(bytesWritten);
  }
}

/** writeAll for a file descriptor, synchronously. */
export function writeAllSync(fd: number, bytes: Uint8Array, position: number | null = null): void {
  for (let done = 0; done < bytes.byteLength; ) {
    const at = position === null ? null : position + done;
    done += wrote(writeSync(fd, bytes, done, bytes.byteLength - done, at));
  }
}

/** A write that took nothing and said nothing would loop for ever: an error instead. */
function wrote(bytes: number): number {
  if (bytes > 0) return bytes;
  throw Object.assign(new Error('write took no bytes (EIO)'), { code: 'EIO' });
}

function sinkOf(handle: FileHandle): ByteSink {
  return { write: (bytes) => writeAll(handle, bytes) };
}

/**
 * Writes `path` through a temporary file beside it, synced and then renamed over the target:
 * a crash at any point leaves either the old file or the new one, never half of one.
 * Throws FileError "<path>: cannot write here: <why>" when the folder takes no new file.
 */
export async function writeFileAtomic(path: string, write: (sink: ByteSink) => Promise<void>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx').catch((e: NodeJS.ErrnoException) => {
    throw new FileError(`${path}: cannot write here: ${fileProblem(e)}`);
  });
  try {
    await write(sinkOf(handle));
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw e;
  }
}

export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, (sink) => sink.write(new TextEncoder().encode(text)));
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * `mkdir -p`: creates `dir` and its missing parents, one mkdir each, and returns the topmost
 * folder it created (undefined when `dir` was there), as `mkdir(dir, { recursive: true })`
 * does. Not that call itself: in Node 20 and 24 it never returns under a folder whose file
 * system refuses new entries with ENOENT (`/proc/x`). Throws the failing step's error (its
 * code: ENOTDIR, EACCES, ENOENT, ...).
 */
export async function makeDirs(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = await stat(at).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null; // missing, or under a file: look further up
      throw e;
    });
    if (found?.isDirectory()) break;
    if (found) throw Object.assign(new Error(`${at} is a file, not a folder`), { code: 'ENOTDIR', path: at });
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing) {
    await mkdir(folder).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e; // made meanwhile by someone else: fine
    });
  }
  return missing[0];
}
