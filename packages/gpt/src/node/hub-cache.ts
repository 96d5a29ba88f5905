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
import { copyFile, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { type CachedRepoInfo, getRepoFolderName, scanCacheDir, scanCachedRepo } from '@huggingface/hub';
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

/**
 * Removes `repo` from the shared cache, or only the snapshot `revision` names: its folder,
 * the refs pointing at it and the blobs no other snapshot uses. Returns the bytes freed.
 * @throws Error when the repository or revision is not cached
 */
export async function removeCachedModel(cacheDir: string, repo: string, revision?: string): Promise<number> {
  const folder = repoFolder(cacheDir, repo);
  if (!existsSync(folder)) throw new Error(`${repo} is not in the Hugging Face cache (${folder})`);
  const info = await scanCachedRepo(folder).catch(() => null);
  if (revision === undefined) {
    await rm(folder, { recursive: true, force: true });
    return info?.size ?? 0;
  }
  const commit = cachedCommit(cacheDir, repo, revision);
  const target = info?.revisions.find((r) => r.commitOid === commit);
  if (!info || !commit || !target) throw new Error(`${repo} has no cached revision "${revision}" (${folder})`);
  const kept = new Set(info.revisions.filter((r) => r !== target).flatMap((r) => r.files.map((f) => f.blob.path)));
  let freed = 0;
  for (const file of target.files) {
    if (kept.has(file.blob.path)) continue;
    kept.add(file.blob.path); // two names for one blob: count and remove it once
    freed += file.blob.size;
    await rm(file.blob.path, { force: true });
  }
  await rm(target.path, { recursive: true, force: true });
  const refs = join(folder, 'refs');
  for (const ref of await readdir(refs, { recursive: true }).catch(() => [] as string[])) {
    const path = join(refs, ref);
    if ((await readFile(path, 'utf8').catch(() => '')).trim() === commit) await rm(path, { force: true });
  }
  if (info.revisions.length === 1) await rm(folder, { recursive: true, force: true });
  return freed;
}
