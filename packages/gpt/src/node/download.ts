/**
 * Downloads: a model repository from the Hugging Face hub into the shared cache (Python's
 * layout, see hub-cache.ts), and a plain URL into a file (the book's text).
 *
 * What @huggingface/hub does here: modelInfo (the commit a revision points to and the file
 * list), pathsInfo (each file's size, git blob id and LFS SHA-256), downloadFile (the resolve
 * endpoint, its redirect to the CDN, and a Blob whose slice() makes a ranged request).
 * What it leaves to the caller, and transfer.ts adds: a resumed `.incomplete`, progress,
 * the size and hash checks, the rename only when whole. Its downloadFileToCacheDir is not
 * used: it names the snapshot after each file's last commit instead of the revision's commit
 * (Python's X-Repo-Commit) and writes no refs/, so Python would not find what it wrote.
 */
import { copyFile, lstat, readFile, readdir, rename, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type PathInfo, downloadFile as hubDownloadFile, modelInfo, pathsInfo } from '@huggingface/hub';
import type { GPTConfig } from '../config.js';
import { fromHFConfig } from '../hf.js';
import { parseJsonStrict } from '../json.js';
import { formatGB } from '../memory.js';
import { exists, makeDirs } from './files.js';
import { HubError, type HubSettings, explainedFetch, hubFetch, hubSettings } from './hub.js';
import { MODEL_FILES, cachedSnapshot, linkSnapshotFile, repoFolder, writeRef } from './hub-cache.js';
import { type Digest, DownloadError, type DownloadProgress, fileDigest, transferVerified } from './transfer.js';

export { DownloadError, type DownloadProgress } from './transfer.js';

/** GPT-2 sizes on the Hugging Face hub, by the short names users type. */
export const GPT2_REPOSITORIES = {
  gpt2: 'openai-community/gpt2',
  'gpt2-medium': 'openai-community/gpt2-medium',
  'gpt2-large': 'openai-community/gpt2-large',
  'gpt2-xl': 'openai-community/gpt2-xl',
} as const;
export type GPT2Name = keyof typeof GPT2_REPOSITORIES;

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const REPO_PART = /^\w(?:[\w.-]*\w)?$/;

/** The hub repository a model name stands for: a GPT-2 short name or an `owner/name` id; null otherwise. */
export function modelRepository(name: string): string | null {
  if (Object.hasOwn(GPT2_REPOSITORIES, name)) return GPT2_REPOSITORIES[name as GPT2Name];
  // huggingface_hub's validate_repo_id: each part starts and ends with a letter, digit or "_"
  // ("owner/." is not a repository), at most 96 characters, no "--" or "..", no ".git" end.
  const valid =
    REPO_ID.test(name) &&
    name.split('/').every((part) => REPO_PART.test(part) && part.length <= 96) &&
    !name.includes('..') &&
    !name.includes('--') &&
    !name.endsWith('.git');
  return valid ? name : null;
}

// Weights formats that are Python pickles: loading one runs whatever code it carries.
const PICKLES = /\.(bin|pt|pth|ckpt|pkl)$/;

/** The files a repository must have for mini-gpt, checked before any byte is fetched. */
export function checkFiles(repo: string, revision: string, files: string[]): void {
  if (!files.includes('model.safetensors')) {
    const pickles = files.filter((f) => PICKLES.test(f));
    if (pickles.length > 0) {
      throw new DownloadError(
        `${repo} (${revision}) has its weights only as a PyTorch pickle (${pickles.join(', ')}): mini-gpt loads safetensors only, because unpickling runs any code the file contains; convert it (e.g. with transformers' save_pretrained(safe_serialization=True)) or pick a repository with model.safetensors`,
      );
    }
    const sharded = files.includes('model.safetensors.index.json')
      ? ' (its weights are sharded over several files, which mini-gpt does not read)'
      : '';
    throw new DownloadError(`${repo} (${revision}) has no model.safetensors${sharded}`);
  }
  if (!files.includes('config.json')) throw new DownloadError(`${repo} (${revision}) has no config.json`);
}

/** A hub error as a sentence about this repository, file and revision, naming HF_TOKEN where a token is the fix. */
export function explain(
  e: unknown,
  at: { repo: string; revision: string; file?: string; settings: HubSettings; gated?: boolean },
): Error {
  if (!(e instanceof HubError) || e.status === 0) return e as Error;
  const { repo, revision, file, settings } = at;
  const page = `${settings.endpoint}/${repo}`;
  if (e.code === 'GatedRepo' || (at.gated && (e.status === 401 || e.status === 403))) {
    return new DownloadError(
      settings.token
        ? `${repo} is gated and the token in HF_TOKEN has no access to it (HTTP ${e.status}): accept its conditions at ${page} with that account`
        : `${repo} is gated: accept its conditions at ${page}, then set HF_TOKEN to an access token of that account (HTTP ${e.status}, no token was sent)`,
    );
  }
  if (e.code === 'RevisionNotFound')
    return new DownloadError(`${repo} has no revision "${revision}" (HTTP ${e.status})`);
  if (e.code === 'EntryNotFound')
    return new DownloadError(`${repo} has no file ${file ?? ''} at revision ${revision} (HTTP ${e.status})`);
  if (e.code === 'RepoNotFound' || e.status === 404 || (e.status === 401 && !settings.token)) {
    return new DownloadError(
      `no repository ${repo} on ${settings.endpoint} (HTTP ${e.status}); if it is private, set HF_TOKEN to a token that can read it`,
    );
  }
  if (e.status === 401 || e.status === 403)
    return new DownloadError(`the token in HF_TOKEN may not read ${repo} (HTTP ${e.status}): ${e.message}`);
  return e;
}

const digestOf = (info: PathInfo): Digest =>
  info.lfs ? { kind: 'sha256', hex: info.lfs.oid } : { kind: 'git-blob-sha1', hex: info.oid! };

export interface ModelDownloadOptions {
  /** Branch, tag or commit (default "main"). */
  revision?: string;
  /** Default: hubSettings() from the environment. */
  settings?: HubSettings;
  /** A folder of the older mini-gpt cache holding this model: its files are verified and moved in rather than fetched. */
  adopt?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** One line for the user (a moved file, a file already cached). */
  onNote?: (line: string) => void;
  /** Fetch every file again, even those the cache holds (a damaged blob of the right size). */
  force?: boolean;
}

/**
 * Refuses a config.json mini-gpt cannot load (another architecture, a variant of GPT-2's
 * attention, bad JSON), before the weights, which may be gigabytes, are fetched.
 */
async function checkConfig(repo: string, revision: string, path: string): Promise<void> {
  hubConfig(repo, revision, await readFile(path, 'utf8'));
}

/**
 * The GPTConfig of a repository's config.json text (a byte-order mark allowed).
 * @throws DownloadError naming the repository when mini-gpt cannot load it
 */
export function hubConfig(repo: string, revision: string, text: string): GPTConfig {
  const parsed = parseJsonStrict(text.startsWith('\uFEFF') ? text.slice(1) : text);
  try {
    if ('error' in parsed) throw new Error(`config.json ${parsed.error}`);
    return fromHFConfig(parsed.value, 'config.json');
  } catch (e) {
    throw new DownloadError(
      `${repo} (${revision}) is not a GPT-2 model mini-gpt can load (${(e as Error).message}); its weights were not downloaded`,
    );
  }
}

/** Refuses a transfer of `needed` bytes into `dir` when the disk has less free. */
async function checkDisk(dir: string, file: string, needed: number): Promise<void> {
  const { bavail, bsize } = await statfs(dir);
  const free = bavail * bsize;
  if (free < needed)
    throw new DownloadError(
      `${file} needs ${formatGB(needed)} but ${dir} has ${formatGB(free)} free: free some space, or set HF_HUB_CACHE to a folder on a larger disk`,
    );
}

export interface DownloadedModel {
  /** snapshots/<commit>: the folder holding config.json and model.safetensors. */
  dir: string;
  commit: string;
}

/**
 * Puts config.json and model.safetensors of `repo` at `revision` into the shared cache and
 * records refs/<revision> last, once both are whole. Offline (HF_HUB_OFFLINE) it returns a
 * complete cached snapshot or throws, without a request.
 * @throws DownloadError (missing or pickle-only weights, a gated or missing repository, a
 *   broken or wrong transfer) or HubError (the hub could not be reached: URL, cause, HF_ENDPOINT).
 */
export async function downloadModel(repo: string, options: ModelDownloadOptions = {}): Promise<DownloadedModel> {
  const settings = options.settings ?? hubSettings();
  const revision = options.revision ?? 'main';
  const folder = repoFolder(settings.cacheDir, repo);
  if (settings.offline) {
    const dir = cachedSnapshot(settings.cacheDir, repo, revision);
    if (!dir)
      throw new DownloadError(
        `${repo} (revision ${revision}) is not in the Hugging Face cache (searched ${folder}) and HF_HUB_OFFLINE is set`,
      );
    return { dir, commit: dir.split(/[\\/]/).pop()! };
  }
  // The token is sent by hubFetch (to the hub only), whatever its form: @huggingface/hub
  // refuses one that does not start with hf_, which a mirror's own tokens need not.
  const common = { hubUrl: settings.endpoint, fetch: hubFetch(settings) };
  const at = { repo, revision, settings, gated: false };

  let commit: string;
  let infos: PathInfo[];
  try {
    const info = await modelInfo({ ...common, name: repo, revision, additionalFields: ['sha', 'filePaths'] });
    at.gated = Boolean(info.gated);
    checkFiles(repo, revision, info.filePaths);
    commit = info.sha;
    infos = await pathsInfo({
      ...common,
      repo: { type: 'model', name: repo },
      paths: [...MODEL_FILES],
      revision: commit,
    });
  } catch (e) {
    throw explain(e, at);
  }
  const snapshot = join(folder, 'snapshots', commit);
  for (const file of MODEL_FILES) {
    const info = infos.find((i) => i.path === file);
    if (!info || (!info.lfs && !info.oid))
      throw new DownloadError(`${repo} has no file ${file} at revision ${revision}`);
    const digest = digestOf(info);
    const size = info.lfs?.size ?? info.size;
    const pointer = join(snapshot, file);
    const blob = join(folder, 'blobs', digest.hex);
    // A cached blob of the wrong size (cut short, overwritten) is fetched again, not trusted.
    const cached = await stat(blob).then(
      (s) => s.size === size,
      () => false,
    );
    if (!cached && (await exists(blob))) {
      options.onNote?.(`${blob} is not the hub's ${file} (${size} bytes); downloading it again`);
      if ((await lstat(blob)).isFile()) await rm(blob);
    }
    if (options.force && cached) {
      await rm(`${blob}.incomplete`, { force: true });
    } else if (cached && (await exists(pointer))) {
      if (file === 'config.json') await checkConfig(repo, revision, pointer);
      continue;
    }
    const fresh = options.force || !cached;
    if (fresh && !(await adopt(options, file, blob, digest, size))) {
      await makeDirs(dirname(blob));
      const have = await stat(`${blob}.incomplete`).then(
        (s) => s.size,
        () => 0,
      );
      await checkDisk(dirname(blob), file, Math.max(0, size - have));
      await transferVerified({
        target: blob,
        label: file,
        size,
        digest,
        onProgress: options.onProgress && ((p) => options.onProgress!({ ...p, file })),
        open: async (offset) => {
          // xet: false: the plain resolve/CDN path, which every hub and mirror serves and ranges work on.
          const whole = await hubDownloadFile({
            ...common,
            repo: { type: 'model', name: repo },
            path: file,
            revision: commit,
            xet: false,
          }).catch((e) => {
            throw explain(e, { ...at, file });
          });
          if (!whole) throw new DownloadError(`${repo} has no file ${file} at revision ${revision}`);
          const part = offset > 0 ? whole.slice(offset) : whole;
          return { from: offset, chunks: part.stream() as unknown as AsyncIterable<Uint8Array> };
        },
      });
    }
    await linkSnapshotFile(blob, pointer);
    if (file === 'config.json') await checkConfig(repo, revision, pointer);
  }
  await writeRef(settings.cacheDir, repo, revision, commit);
  if (options.adopt) await removeIfEmpty(options.adopt);
  return { dir: snapshot, commit };
}

/** Moves a file of the older mini-gpt cache to `blob` if it is the hub's file; false if absent or different. */
async function adopt(
  options: ModelDownloadOptions,
  file: string,
  blob: string,
  digest: Digest,
  size: number,
): Promise<boolean> {
  if (!options.adopt) return false;
  const old = join(options.adopt, file);
  if (!(await exists(old))) return false;
  if ((await fileDigest(old, digest.kind)) !== digest.hex) {
    options.onNote?.(`${old} differs from the hub's ${file} (${size} bytes); downloading it`);
    return false;
  }
  await makeDirs(dirname(blob));
  await rename(old, blob).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EXDEV') throw e;
    await copyFile(old, blob);
    await rm(old);
  });
  options.onNote?.(`moved ${old} into the Hugging Face cache (${blob})`);
  return true;
}

/** Removes a folder of the older cache once nothing but leftovers of its own downloader remain. */
async function removeIfEmpty(dir: string): Promise<void> {
  const left = await readdir(dir).catch(() => null);
  if (!left) return;
  for (const name of left) if (name.endsWith('.partial')) await rm(join(dir, name), { force: true });
  await rmdir(dir).catch(() => {});
}

/**
 * Downloads a plain URL to `target` (the book's text), through the same verified transfer.
 * @throws HubError (unreachable: URL and cause; HTTP error) or DownloadError (broken, wrong size)
 */
export async function downloadFile(
  url: string,
  target: string,
  onProgress?: (p: DownloadProgress) => void,
): Promise<void> {
  const get = explainedFetch();
  await transferVerified({
    target,
    size: null,
    digest: null,
    onProgress,
    open: async (offset) => {
      const response = await get(url, offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {});
      return {
        from: response.status === 206 ? offset : 0,
        chunks: response.body as unknown as AsyncIterable<Uint8Array>,
      };
    },
  });
}
