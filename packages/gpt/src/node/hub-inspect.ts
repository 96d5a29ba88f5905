/**
 * A hub repository's model described without downloading it: its config.json, and the header
 * of its model.safetensors read with HTTP Range requests (the first 8 bytes for the header's
 * length, then the header), as huggingface_hub's get_safetensors_metadata does. A 500 MB or
 * 6 GB weights file costs a few kilobytes; nothing is written to the cache.
 */
import { modelInfo } from '@huggingface/hub';
import type { GPTConfig } from '../config.js';
import { inspectHFModel } from '../hf.js';
import type { ByteSource } from '../safetensors.js';
import type { ModelDType } from '../weight-dtype.js';
import { DownloadError, checkFiles, explain, hubConfig } from './download.js';
import { HubError, type HubSettings, hubFetch, hubSettings } from './hub.js';

export interface HubModelSummary {
  repo: string;
  revision: string;
  /** The commit `revision` pointed to: both files were read at it. */
  commit: string;
  config: GPTConfig;
  /** The weight matrices' dtype in the file (inspectHFModel). */
  fileDType: ModelDType;
  /** model.safetensors' size in bytes (the Content-Range of the first ranged answer). */
  bytes: number;
}

/** The hub's URL of `file` in `repo` at `commit` (the resolve endpoint, which redirects large files to a CDN). */
const resolveUrl = (settings: HubSettings, repo: string, commit: string, file: string): string =>
  `${settings.endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${file.split('/').map(encodeURIComponent).join('/')}`;

/**
 * At most `length` bytes from `offset` of the answer to a ranged GET: the answer's own bytes
 * for a 206, or those bytes picked out of the stream of a server that ignored the range (200),
 * the rest of the stream cancelled unread.
 */
async function rangeBytes(response: Response, offset: number, length: number, url: string): Promise<Uint8Array> {
  let skip = 0;
  if (response.status === 200) skip = offset;
  else if (response.status === 206) {
    const from = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
    if (!from || Number(from[1]) !== offset) {
      await response.body?.cancel();
      throw new HubError(`${url}: asked for bytes from ${offset}, got ${response.headers.get('content-range')}`);
    }
  }
  const out = new Uint8Array(length);
  let filled = 0;
  const reader = response.body!.getReader();
  try {
    while (filled < length) {
      const { done, value } = await reader.read();
      if (done) break;
      const piece = value.subarray(Math.min(skip, value.length));
      skip -= value.length - piece.length;
      const take = piece.subarray(0, length - filled);
      out.set(take, filled);
      filled += take.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  if (filled < length) throw new HubError(`${url}: the answer ended after ${filled} of ${length} bytes`);
  return out;
}

/**
 * A ByteSource over a file on the hub: each read is one ranged GET. The first 8 bytes are read
 * when it opens, to learn the file's size (Content-Range's total; Content-Length when the
 * server ignores ranges), and kept for readHeader's first read.
 */
async function remoteSource(url: string, name: string, get: typeof fetch): Promise<ByteSource> {
  const ranged = (offset: number, length: number) =>
    get(url, { headers: { range: `bytes=${offset}-${offset + length - 1}` } });
  const first = await ranged(0, 8);
  const total = /\/(\d+)$/.exec(first.headers.get('content-range') ?? '')?.[1] ?? first.headers.get('content-length');
  const size = Number(total);
  if (total === null || !Number.isSafeInteger(size)) {
    await first.body?.cancel();
    throw new HubError(`${url}: the answer gives no size (no Content-Range or Content-Length)`);
  }
  const head = await rangeBytes(first, 0, Math.min(8, size), url);
  return {
    name,
    size,
    async read(offset, length) {
      if (offset + length <= head.length) return head.slice(offset, offset + length);
      return rangeBytes(await ranged(offset, length), offset, length, url);
    },
  };
}

/**
 * What `repo` at `revision` holds (config, weights' dtype and size), from the hub's model info,
 * its config.json and model.safetensors' header, without downloading the weights or writing to
 * the cache.
 * @throws DownloadError (no model.safetensors, pickle-only, not a GPT-2, gated, missing
 *   repository or revision), HubError (unreachable hub), SafetensorsError (a header that does
 *   not fit the config, as generate would refuse it after downloading)
 */
export async function inspectHubModel(
  repo: string,
  options: { revision?: string; settings?: HubSettings } = {},
): Promise<HubModelSummary> {
  const settings = options.settings ?? hubSettings();
  const revision = options.revision ?? 'main';
  const get = hubFetch(settings);
  const at = { repo, revision, settings, gated: false };
  let commit: string;
  let config: GPTConfig;
  let source: ByteSource;
  try {
    const info = await modelInfo({
      hubUrl: settings.endpoint,
      fetch: get,
      name: repo,
      revision,
      additionalFields: ['sha', 'filePaths'],
    });
    at.gated = Boolean(info.gated);
    checkFiles(repo, revision, info.filePaths);
    commit = info.sha;
    const configUrl = resolveUrl(settings, repo, commit, 'config.json');
    config = hubConfig(repo, revision, await (await get(configUrl)).text());
    const weights = resolveUrl(settings, repo, commit, 'model.safetensors');
    source = await remoteSource(weights, `${repo}/model.safetensors (${revision})`, get);
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    throw explain(e, at);
  }
  return { repo, revision, commit, config, ...(await inspectHFModel(source, config)) };
}
