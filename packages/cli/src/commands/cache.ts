/**
 * mini-gpt cache: what the shared Hugging Face cache and the older mini-gpt cache hold, with
 * sizes (`ls`, the default), and removing a model from both (`rm`).
 */
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { cacheDir } from '../paths.js';
import { UsageError, formatBytes, say } from '../ui.js';

interface LegacyModel {
  name: string;
  path: string;
  sizeBytes: number;
}

/** GPT-2 folders in the older mini-gpt cache (<cache>/models/<name>). */
async function legacyModels(): Promise<LegacyModel[]> {
  const root = join(cacheDir(), 'models');
  const names = await readdir(root).catch(() => [] as string[]);
  const models: LegacyModel[] = [];
  for (const name of names.sort()) {
    const path = join(root, name);
    // A folder that is a link: removing it removes the link only, so nothing there is counted.
    const linked = (await lstat(path).catch(() => null))?.isSymbolicLink() ?? false;
    const files = linked ? [] : await readdir(path).catch(() => [] as string[]);
    let sizeBytes = 0;
    // lstat: a link's target is not in this cache, and removing the link frees nothing of it.
    for (const file of files) {
      const st = await lstat(join(path, file)).catch(() => null);
      if (st?.isFile()) sizeBytes += st.size;
    }
    models.push({ name, path, sizeBytes });
  }
  return models;
}

const shortCommit = (commit: string) => commit.slice(0, 10);

export async function listCache(flags: { json?: boolean }): Promise<number> {
  const settings = G.hubSettings();
  const { models, warnings } = await G.scanModelCache(settings.cacheDir);
  const legacy = await legacyModels();
  const total = models.reduce((n, m) => n + m.sizeBytes, 0) + legacy.reduce((n, m) => n + m.sizeBytes, 0);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ huggingFace: { path: settings.cacheDir, models, warnings }, miniGpt: { path: join(cacheDir(), 'models'), models: legacy }, sizeBytes: total })}\n`,
    );
    return 0;
  }
  say(`Hugging Face cache: ${settings.cacheDir}`);
  if (models.length === 0) say('  (no models)');
  const width = Math.max(0, ...models.map((m) => m.repo.length), ...legacy.map((m) => m.name.length));
  for (const m of models) {
    const revisions = [...m.revisions]
      .sort((a, b) => b.refs.length - a.refs.length)
      .map(
        (r) =>
          `${r.refs.length ? `${r.refs.join(', ')} = ` : ''}${shortCommit(r.commit)}${r.usable ? '' : ' (no config.json + model.safetensors)'}`,
      );
    say(`  ${m.repo.padEnd(width)}  ${formatBytes(m.sizeBytes).padStart(8)}  ${revisions.join('; ')}`);
  }
  for (const w of warnings) say(`  could not read: ${w}`);
  if (legacy.length > 0) {
    say(
      `older mini-gpt cache: ${join(cacheDir(), 'models')}  (npx mini-gpt download <name> moves a model into the Hugging Face cache)`,
    );
    for (const m of legacy) say(`  ${m.name.padEnd(width)}  ${formatBytes(m.sizeBytes).padStart(8)}`);
  }
  say(`total ${formatBytes(total)}`);
  return 0;
}

export async function removeCached(model: string, flags: { revision?: string }): Promise<number> {
  const repo = G.modelRepository(model);
  if (!repo)
    throw new UsageError(
      `unknown model "${model}": use a GPT-2 name (${Object.keys(G.GPT2_REPOSITORIES).join(', ')}) or a hub repository id (owner/name)`,
    );
  const settings = G.hubSettings();
  const folder = G.repoFolder(settings.cacheDir, repo);
  const legacy =
    flags.revision === undefined
      ? (await legacyModels()).find((m) => G.GPT2_REPOSITORIES[m.name as G.GPT2Name] === repo)
      : undefined;
  let removed = false;
  if ((await stat(folder).catch(() => null)) !== null) {
    const freed = await G.removeCachedModel(settings.cacheDir, repo, flags.revision);
    say(`removed ${repo}${flags.revision ? ` (${flags.revision})` : ''} from ${folder}: ${formatBytes(freed)} freed`);
    removed = true;
  }
  if (legacy) {
    await rm(legacy.path, { recursive: true, force: true });
    say(`removed ${legacy.path}: ${formatBytes(legacy.sizeBytes)} freed`);
    removed = true;
  }
  if (!removed) throw new UsageError(`${model} is not cached (looked in ${folder} and ${join(cacheDir(), 'models')})`);
  return 0;
}
