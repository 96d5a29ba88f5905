/**
 * A verified transfer into a file: bytes are appended to `<target>.incomplete` (resuming what a
 * broken transfer left there), hashed as they arrive, and renamed to the target only when the
 * size and the digest match what the server announced. A wrong file is deleted, never kept.
 * This is the part @huggingface/hub leaves to its caller: its downloadFileToCacheDir rewrites
 * `.incomplete` from byte 0, reports no progress, and checks neither size nor hash.
 */
import { MiniGptError } from '@mini/tensor';
import { type Hash, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { makeDirs } from './files.js';

export class DownloadError extends MiniGptError {
  override name = 'DownloadError';
}

export interface DownloadProgress {
  /** The file being written (its final name). */
  file: string;
  /** Bytes on disk so far, resumed bytes included. */
  bytes: number;
  total: number | null;
}

/**
 * The expected content: an LFS file is named by the SHA-256 of its bytes; a small file in git
 * by its blob id, the SHA-1 of "blob <size>\0" followed by the bytes.
 */
export type Digest = { kind: 'sha256'; hex: string } | { kind: 'git-blob-sha1'; hex: string };

export interface TransferPlan {
  target: string;
  /** The file's name in messages (default: the target's). */
  label?: string;
  /** Size in bytes, when known before the transfer (null: whatever arrives). */
  size: number | null;
  digest: Digest | null;
  /** A stream of the file's bytes from `offset` on, and the offset the server really started at. */
  open(offset: number): Promise<{ from: number; chunks: AsyncIterable<Uint8Array> }>;
  onProgress?: (p: DownloadProgress) => void;
}

function startHash(digest: Digest | null, size: number | null): Hash | null {
  if (!digest) return null;
  if (digest.kind === 'sha256') return createHash('sha256');
  return createHash('sha1').update(`blob ${size}\0`);
}

async function hashPrefix(hash: Hash | null, path: string, length: number): Promise<void> {
  if (!hash || length === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) hash.update(chunk as Buffer);
}

/** The digest of a whole file on disk (SHA-256 or git blob SHA-1). */
export async function fileDigest(path: string, kind: Digest['kind']): Promise<string> {
  const { size } = await stat(path);
  const hash = startHash({ kind, hex: '' }, size)!;
  await hashPrefix(hash, path, size);
  return hash.digest('hex');
}

const reasonOf = (e: unknown): string => (typeof e === 'string' ? e : ((e as Error)?.message ?? String(e)));

/**
 * Runs a plan; the target exists afterwards only if it is whole and verified.
 * @throws DownloadError when the transfer breaks (the `.incomplete` file is kept for a resume)
 *   or when the size or digest is wrong (the file is deleted).
 */
export async function transferVerified(plan: TransferPlan): Promise<void> {
  const { target, size, digest } = plan;
  const incomplete = `${target}.incomplete`;
  const name = plan.label ?? basename(target);
  await makeDirs(dirname(target));
  let have = await stat(incomplete).then(
    (s) => s.size,
    () => 0,
  );
  if (size !== null && have > size) {
    await rm(incomplete, { force: true });
    have = 0;
  }
  // Hashed as the bytes arrive (after the bytes already on disk), not in a second pass over GBs.
  const hash = startHash(digest, size);
  if (size === null || have < size) {
    const { from, chunks } = await plan.open(have);
    have = from; // the server may ignore the range and start again at 0
    await hashPrefix(hash, incomplete, have);
    const handle = await open(incomplete, have > 0 ? 'r+' : 'w');
    let bytes = have;
    try {
      await handle.truncate(have);
      for await (const chunk of chunks) {
        await handle.write(chunk, 0, chunk.byteLength, bytes);
        hash?.update(chunk);
        bytes += chunk.byteLength;
        plan.onProgress?.({ file: target, bytes, total: size });
      }
    } catch (e) {
      throw new DownloadError(
        `${name}: the transfer broke at ${bytes}${size !== null ? ` of ${size}` : ''} bytes (${reasonOf(e)}); run the same command again to resume`,
      );
    } finally {
      await handle.close();
    }
  } else {
    await hashPrefix(hash, incomplete, have);
  }
  const got = (await stat(incomplete)).size;
  if (size !== null && got !== size) {
    await rm(incomplete, { force: true });
    throw new DownloadError(`${name}: got ${got} bytes but the server announced ${size}; the partial file was deleted`);
  }
  const actual = hash?.digest('hex');
  if (digest && actual !== digest.hex) {
    await rm(incomplete, { force: true });
    throw new DownloadError(
      `${name}: ${digest.kind === 'sha256' ? 'SHA-256' : 'git blob SHA-1'} ${actual} does not match the server's ${digest.hex}; the file was deleted`,
    );
  }
  await rename(incomplete, target);
}
