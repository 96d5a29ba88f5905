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
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDirs, writeAll } from './files.js';

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
  /** Resumes after a broken transfer, from the bytes on disk (default 2; waits 1 s, then 2 s). */
  retries?: number;
}

/** A write to the partial file failed (the disk, not the network): not worth a retry. */
class WriteFailure extends Error {}

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
 * Runs a plan; the target exists afterwards only if it is whole and verified. A transfer that
 * breaks (the connection drops, no data for the fetch's timeout) is resumed from the bytes on
 * disk, `retries` times, before it fails.
 * @throws DownloadError when the transfer breaks (the `.incomplete` file is kept for a resume),
 *   when the disk is full (one line, the file kept), or when the size or digest is wrong (the
 *   file is deleted).
 */
export async function transferVerified(plan: TransferPlan): Promise<void> {
  const { target, size, digest } = plan;
  const incomplete = `${target}.incomplete`;
  const name = plan.label ?? basename(target);
  const retries = plan.retries ?? 2;
  await makeDirs(dirname(target));
  let have = await stat(incomplete).then(
    (s) => s.size,
    () => 0,
  );
  if (size !== null && have > size) {
    await rm(incomplete, { force: true });
    have = 0;
  }
  let hash: Hash | null = null;
  for (let attempt = 0; ; attempt++) {
    // Hashed as the bytes arrive (after the bytes already on disk), not in a second pass over GBs.
    hash = startHash(digest, size);
    if (size !== null && have >= size) {
      await hashPrefix(hash, incomplete, have);
      break;
    }
    const progress = { bytes: have };
    try {
      await receive(plan, incomplete, hash, progress);
      break;
    } catch (e) {
      if (e instanceof WriteFailure) {
        const code = (e.cause as NodeJS.ErrnoException | undefined)?.code;
        throw new DownloadError(
          code === 'ENOSPC'
            ? `${name}: the disk holding ${dirname(target)} is full after ${progress.bytes}${size !== null ? ` of ${size}` : ''} bytes; free some space and run the same command again to resume`
            : `${name}: could not write ${incomplete} (${reasonOf(e.cause)})`,
        );
      }
      if (e instanceof MiniGptError) throw e; // the server's answer (a 404, a gated file): no retry helps
      if (attempt >= retries)
        throw new DownloadError(
          `${name}: the transfer broke at ${progress.bytes}${size !== null ? ` of ${size}` : ''} bytes (${reasonOf(e)}${attempt > 0 ? `, ${attempt + 1} tries` : ''}); run the same command again to resume`,
        );
      await sleep(1000 * 2 ** attempt);
      have = (await stat(incomplete)).size;
    }
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

/** Appends the server's bytes from `progress.bytes` on to `incomplete`, hashing the file's bytes in order. */
async function receive(
  plan: TransferPlan,
  incomplete: string,
  hash: Hash | null,
  progress: { bytes: number },
): Promise<void> {
  const { from, chunks } = await plan.open(progress.bytes);
  progress.bytes = from; // the server may ignore the range and start again at 0
  await hashPrefix(hash, incomplete, from);
  const handle = await open(incomplete, from > 0 ? 'r+' : 'w').catch((e) => {
    throw new WriteFailure('open', { cause: e });
  });
  try {
    await handle.truncate(from);
    for await (const chunk of chunks) {
      await writeAll(handle, chunk, progress.bytes).catch((e) => {
        throw new WriteFailure('write', { cause: e });
      });
      hash?.update(chunk);
      progress.bytes += chunk.byteLength;
      plan.onProgress?.({ file: plan.target, bytes: progress.bytes, total: plan.size });
    }
  } finally {
    await handle.close();
  }
}
