/**
 * The shared Hugging Face cache layout, as Python's huggingface_hub writes it:
 *
 *   <cache>/models--<owner>--<name>/
 *     refs/<revision>               the commit a branch or tag pointed to when last fetched
 *     blobs/<etag>                  file contents, named by SHA-256 (LFS files) or git blob SHA-1
 *     blobs/<etag>.incomplete       a transfer in progress (resumed by either tool)
 *     snapshots/<commit>/<file>     relative symlinks to ../../blobs/<etag>
 *
 * A model is usable from a snapshot holding config.json and model.safetensors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, lstat, readFile, readdir, readlink, realpath, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { type CachedRepoInfo, getRepoFolderName, scanCacheDir } from '@huggingface/hub';
import { makeDirs, writeTextAtomic } from './files.js';

/** The files a model needs, in the order they are fetched (the small one first). */
export const MODEL_FILES = ['config.json', 'model.safetensors'] as const;

const COMMIT = /^[0-9a-f]{40}$/;
export const isCommitHash = (revision: string): boolean => COMMIT.test(revision);

/** <cache>/models--owner--name */
export function repoFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, getRepoFolderName({ type: 'model', name: repo }));
}

/** The commit a revision names in the cache: itself if a commit hash, else refs/<revision>; null if unknown. */
export function cachedCommit(cacheDir: string, repo: string, revision: string): string | null {
  if (isCommitHash(revision)) return revision;
  try {
    const commit = readFileSync(join(repoFolder(cacheDir, repo), 'refs', revision), 'utf8').trim();
    return isCommitHash(commit) ? commit : null;
  } catch {
    return null;
  }
}

/** The snapshot folder of `repo` at `revision` if it holds every model file (symlinks followed), else null. */
export function cachedSnapshot(cacheDir: string, repo: string, revision: string): string | null {
  const commit = cachedCommit(cacheDir, repo, revision);
  if (!commit) return null;
  const dir = join(repoFolder(cacheDir, repo), 'snapshots', commit);
  return MODEL_FILES.every((file) => existsSync(join(dir, file))) ? dir : null;
}

/** Points snapshots/<commit>/<file> at a blob with a relative symlink (a copy where links are refused, as huggingface_hub does). */
export async function linkSnapshotFile(blob: string, pointer: string): Promise<void> {
  await makeDirs(dirname(pointer));
  await rm(pointer, { force: true });
  try {
    await symlink(relative(dirname(pointer), blob), pointer);
  } catch {
    await copyFile(blob, pointer);
  }
}

/**
 * Records that `revision` points at `commit` (nothing to record when the revision is the commit).
 * refs/ is made even then: @huggingface/hub's scanCacheDir cannot read a repository without it.
 */
export async function writeRef(cacheDir: string, repo: string, revision: string, commit: string): Promise<void> {
  const ref = join(repoFolder(cacheDir, repo), 'refs', revision);
  await makeDirs(dirname(ref));
  if (revision !== commit) await writeTextAtomic(ref, commit);
}

export interface CachedRevision {
  commit: string;
  /** Branches and tags that point here (refs/). */
  refs: string[];
  sizeBytes: number;
  /** Holds config.json and model.safetensors: mini-gpt can load it. */
  usable: boolean;
  path: string;
}

export interface CachedModel {
  repo: string;
  path: string;
  /** Bytes of the distinct blobs (what removing the repository frees). */
  sizeBytes: number;
  revisions: CachedRevision[];
}

function cachedModelOf(info: CachedRepoInfo): CachedModel {
  return {
    repo: info.id.name,
    path: info.path,
    sizeBytes: info.size,
    revisions: info.revisions.map((r) => ({
      commit: r.commitOid,
      refs: r.refs,
      sizeBytes: r.size,
      usable: MODEL_FILES.every((file) => r.files.some((f) => basename(f.path) === file)),
      path: r.path,
    })),
  };
}

/**
 * The model repositories in the shared cache, read by @huggingface/hub's scanCacheDir (the
 * scan huggingface-cli's `scan-cache` does). A missing cache folder is an empty cache;
 * `warnings` names the folders it could not read.
 */
export async function scanModelCache(cacheDir: string): Promise<{ models: CachedModel[]; warnings: string[] }> {
  if (!existsSync(cacheDir)) return { models: [], warnings: [] };
  const scan = await scanCacheDir(cacheDir);
  return {
    models: scan.repos
      .filter((r) => r.id.type === 'model')
      .map(cachedModelOf)
      .sort((a, b) => a.repo.localeCompare(b.repo)),
    warnings: scan.warnings.map((w) => w.message),
  };
}

/** Bytes of the regular files under `path` that removing it frees: links are not followed, and a file with another hard link frees nothing. */
async function ownBytes(path: string): Promise<number> {
  const st = await lstat(path).catch(() => null);
  if (!st) return 0;
  if (st.isFile()) return st.nlink <= 1 ? st.size : 0;
  if (!st.isDirectory()) return 0;
  let bytes = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) bytes += await ownBytes(join(path, name));
  return bytes;
}

/** Removes `path` (a link is removed, never what it points to) and returns the bytes freed. */
async function removeOwn(path: string): Promise<number> {
  const freed = await ownBytes(path);
  await rm(path, { recursive: true, force: true });
  return freed;
}

/** The links under `dir` (not following links to folders; `dir` itself a link yields nothing). */
async function linksUnder(dir: string): Promise<string[]> {
  const st = await lstat(dir).catch(() => null);
  if (!st?.isDirectory()) return [];
  const links: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) links.push(path);
    else if (entry.isDirectory()) links.push(...(await linksUnder(path)));
  }
  return links;
}

/**
 * The name of the blob `link` points at when it is an entry of `blobs` (the repository's own
 * blobs/ folder, itself inside the cache and not a link), else null: a link to anything else
 * names a file that is not the cache's to delete.
 */
async function ownBlob(link: string, blobs: string, realBlobs: string | null): Promise<string | null> {
  if (!realBlobs) return null;
  const target = resolve(dirname(link), await readlink(link).catch(() => ''));
  if (dirname(target) !== blobs) return null;
  const real = await realpath(target).catch(() => null);
  const st = await lstat(target).catch(() => null);
  return real && dirname(real) === realBlobs && st?.isFile() ? basename(target) : null;
}

/**
 * Removes `repo` from the shared cache, or only the snapshot `revision` names: its folder
 * (links are removed, never what they point to), the refs pointing at it and the blobs of the
 * repository's own blobs/ that no other snapshot uses. Nothing outside the cache is deleted,
 * whatever the snapshots link to. Returns the bytes freed (files outside the cache and files
 * with another hard link are not counted).
 * @throws Error when the repository or revision is not cached
 */
export async function removeCachedModel(cacheDir: string, repo: string, revision?: string): Promise<number> {
  const folder = repoFolder(cacheDir, repo);
  const top = await lstat(folder).catch(() => null);
  if (!top) throw new Error(`${repo} is not in the Hugging Face cache (${folder})`);
  if (revision === undefined || !top.isDirectory()) {
    if (revision !== undefined) throw new Error(`${repo} has no cached revision "${revision}" (${folder})`);
    return removeOwn(folder); // a repository folder that is a link: the link goes, nothing it points to
  }
  const commit = cachedCommit(cacheDir, repo, revision);
  const snapshots = join(folder, 'snapshots');
  const target = commit ? join(snapshots, commit) : null;
  if (!commit || !target || !(await lstat(target).catch(() => null)))
    throw new Error(`${repo} has no cached revision "${revision}" (${folder})`);
  const blobs = join(folder, 'blobs');
  const blobsStat = await lstat(blobs).catch(() => null);
  const realCache = await realpath(cacheDir).catch(() => null);
  const realBlobsPath = blobsStat?.isDirectory() ? await realpath(blobs).catch(() => null) : null;
  const realBlobs = realCache && realBlobsPath?.startsWith(realCache + sep) ? realBlobsPath : null;
  const kept = new Set<string>();
  for (const name of await readdir(snapshots).catch(() => [] as string[])) {
    if (name === commit) continue;
    for (const link of await linksUnder(join(snapshots, name))) {
      const blob = await ownBlob(link, blobs, realBlobs);
      if (blob) kept.add(blob);
    }
  }
  let freed = 0;
  for (const link of await linksUnder(target)) {
    const blob = await ownBlob(link, blobs, realBlobs);
    if (!blob || kept.has(blob)) continue;
    kept.add(blob); // two names for one blob: count and remove it once
    freed += await removeOwn(join(blobs, blob));
  }
  freed += await removeOwn(target);
  const refs = join(folder, 'refs');
  for (const ref of await readdir(refs, { recursive: true }).catch(() => [] as string[])) {
    const path = join(refs, ref);
    if (!(await lstat(path).catch(() => null))?.isFile()) continue;
    if ((await readFile(path, 'utf8').catch(() => '')).trim() === commit) await rm(path, { force: true });
  }
  if ((await readdir(snapshots).catch(() => [] as string[])).length === 0) freed += await removeOwn(folder);
  return freed;
}
