/**
 * Fetching files over HTTP into a cache, as the Hugging Face tools do: a HEAD request for the
 * size (and the SHA-256 where the hub states it), a GET that resumes a partial download with an
 * HTTP Range request, verification, and a rename to the final name only when complete.
 * HF_ENDPOINT sets the hub's base URL (tests point it at a server on loopback).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export class DownloadError extends Error {
  override name = 'DownloadError';
}

/** GPT-2 sizes on the Hugging Face hub. */
export const GPT2_REPOSITORIES = {
  gpt2: 'openai-community/gpt2',
  'gpt2-medium': 'openai-community/gpt2-medium',
  'gpt2-large': 'openai-community/gpt2-large',
  'gpt2-xl': 'openai-community/gpt2-xl',
} as const;
export type GPT2Name = keyof typeof GPT2_REPOSITORIES;

export function hubEndpoint(): string {
  return (process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

export interface DownloadProgress {
  file: string;
  bytes: number;
  total: number | null;
}

interface Remote {
  size: number | null;
  sha256: string | null;
}

// Bytes as stored: a compressed transfer would make Content-Length disagree with the file.
const IDENTITY = { 'accept-encoding': 'identity' };

async function head(url: string): Promise<Remote> {
  const response = await fetch(url, { method: 'HEAD', redirect: 'follow', headers: IDENTITY });
  if (!response.ok) throw new DownloadError(`${url}: HTTP ${response.status} ${response.statusText}`);
  const size = Number(response.headers.get('x-linked-size') ?? response.headers.get('content-length') ?? NaN);
  // The hub states an LFS file's SHA-256 in X-Linked-Etag; other ETags are not content hashes.
  const etag = (response.headers.get('x-linked-etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
  return { size: Number.isFinite(size) ? size : null, sha256: /^[0-9a-f]{64}$/.test(etag) ? etag : null };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Downloads `url` to `target`, resuming from `target.partial`. The final name appears only
 * when the size (and SHA-256, where known) check out; a wrong file is deleted, never kept.
 */
export async function downloadFile(url: string, target: string, onProgress?: (p: DownloadProgress) => void): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  const remote = await head(url);
  let have = await stat(partial).then((s) => s.size, () => 0);
  if (remote.size !== null && have > remote.size) {
    await rm(partial, { force: true });
    have = 0;
  }
  if (remote.size === null || have < remote.size) {
    const response = await fetch(url, { redirect: 'follow', headers: have > 0 ? { ...IDENTITY, Range: `bytes=${have}-` } : IDENTITY });
    if (!response.ok) throw new DownloadError(`${url}: HTTP ${response.status} ${response.statusText}`);
    if (have > 0 && response.status !== 206) have = 0; // the server ignored the range: start over
    const handle = await open(partial, have > 0 ? 'a' : 'w');
    let bytes = have;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        await handle.write(chunk);
        bytes += chunk.byteLength;
        onProgress?.({ file: target, bytes, total: remote.size });
      }
    } catch (e) {
      throw new DownloadError(`${url}: the transfer broke at ${bytes}${remote.size ? ` of ${remote.size}` : ''} bytes (${(e as Error).message}); run the same command again to resume`);
    } finally {
      await handle.close();
    }
  }
  const size = (await stat(partial)).size;
  if (remote.size !== null && size !== remote.size) {
    await rm(partial, { force: true });
    throw new DownloadError(`${url}: got ${size} bytes but the server announced ${remote.size}; the partial file was deleted`);
  }
  if (remote.sha256 !== null) {
    const actual = await sha256Of(partial);
    if (actual !== remote.sha256) {
      await rm(partial, { force: true });
      throw new DownloadError(`${url}: SHA-256 ${actual} does not match the server's ${remote.sha256}; the file was deleted`);
    }
  }
  await rename(partial, target);
}

/** Downloads config.json and model.safetensors of a GPT-2 size into `dir`. */
export async function downloadGPT2(name: GPT2Name, dir: string, onProgress?: (p: DownloadProgress) => void): Promise<void> {
  const repo = GPT2_REPOSITORIES[name];
  if (!repo) throw new DownloadError(`unknown model "${name}": use one of ${Object.keys(GPT2_REPOSITORIES).join(', ')}`);
  for (const file of ['config.json', 'model.safetensors']) {
    await downloadFile(`${hubEndpoint()}/${repo}/resolve/main/${file}`, join(dir, file), onProgress);
  }
}
