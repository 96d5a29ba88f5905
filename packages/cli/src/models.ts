/**
 * How a --model argument resolves, in this order (each step printed with --verbose):
 * 1. a path: a run folder, a folder with model.safetensors, a .safetensors file with config.json beside it;
 * 2. a GPT-2 short name or hub repository id (owner/name) at --revision: a complete snapshot
 *    in the shared Hugging Face cache (no request);
 * 3. the older mini-gpt cache (GPT-2 at main only);
 * 4. a download into the Hugging Face cache; under HF_HUB_OFFLINE, or with no network, a
 *    one-line error naming the cache folder searched instead.
 */
import { existsSync, lstatSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as G from '@mini/gpt/node';
import type { Device } from '@mini/tensor';
import { fetchModel } from './commands/download.js';
import { legacyModelDir } from './paths.js';
import { UsageError, isVerbose } from './ui.js';

/**
 * Throws for a link at `path` whose target is gone (as a Hugging Face cache's, its blob removed):
 * a file fault (exit 1), as a model file that is a folder or cut short.
 */
function refuseBrokenLink(path: string): void {
  // Only `path` itself: "owner/name" under a broken link named owner is still a hub id.
  if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) return;
  const why = G.brokenLink(path);
  if (why) throw new G.FileError(`${path}: ${why}`);
}

/** The folder holding config.json + model.safetensors for an existing path. */
function localModelDir(model: string): string {
  if (statSync(model).isDirectory()) {
    if (existsSync(join(model, 'checkpoint', 'model.safetensors'))) return join(model, 'checkpoint'); // a training run
    // A crash between a save's two renames leaves the whole checkpoint in checkpoint.previous,
    // where --resume finds it (loadCheckpoint): generate and eval look there too.
    if (!existsSync(join(model, 'checkpoint')) && existsSync(join(model, 'checkpoint.previous', 'model.safetensors')))
      return join(model, 'checkpoint.previous');
    if (existsSync(join(model, 'model.safetensors'))) return model;
    for (const path of [join(model, 'checkpoint', 'model.safetensors'), join(model, 'model.safetensors')])
      refuseBrokenLink(path);
    throw new UsageError(`${model}: no model.safetensors in this folder (nor in ${join(model, 'checkpoint')})`);
  }
  if (model.endsWith('.safetensors')) {
    if (basename(model) !== 'model.safetensors')
      throw new UsageError(`${model}: name the file model.safetensors, with its config.json beside it`);
    if (!existsSync(join(dirname(model), 'config.json')))
      throw new UsageError(`${model}: config.json is missing beside it`);
    return dirname(model);
  }
  throw new UsageError(`${model}: not a run folder, a model folder or a .safetensors file`);
}

const trace = (line: string): void => {
  if (isVerbose()) process.stderr.write(`model: ${line}\n`);
};

/** Where a --model argument is: a folder on this machine, or a hub repository the cache lacks. */
export type ModelLocation = { dir: string } | { repo: string; revision: string; folder: string };

/**
 * Where a --model argument is, without a request: a path, a GPT-2 short name or a hub
 * repository id (owner/name) at `revision` (default main) found in a cache, or a repository to
 * fetch (`folder`: the cache folder searched). Offline, a repository not cached is an error.
 */
export function locateModel(model: string, revision = 'main'): ModelLocation {
  refuseBrokenLink(model);
  if (existsSync(model)) {
    const dir = localModelDir(model);
    trace(`${model} is a path: ${dir}`);
    return { dir };
  }
  // NOTE: "runs/tiny" is also a valid repository id; when its folder part exists here, a path was meant.
  if (model.includes('/') && existsSync(dirname(model))) throw new UsageError(`${model}: no such file or folder`);
  const repo = G.modelRepository(model);
  if (!repo)
    throw new UsageError(
      `${model}: no such file or folder, and neither a GPT-2 name (${Object.keys(G.GPT2_REPOSITORIES).join(', ')}) nor a hub repository id (owner/name)`,
    );
  trace(`${model} is no path: hub repository ${repo}, revision ${revision}`);
  const settings = G.hubSettings();
  const folder = G.repoFolder(settings.cacheDir, repo);
  const cached = G.cachedSnapshot(settings.cacheDir, repo, revision);
  if (cached) {
    trace(`found in the Hugging Face cache: ${cached}`);
    return { dir: cached };
  }
  trace(`not in the Hugging Face cache: no complete snapshot of ${revision} in ${folder}`);
  const legacy = revision === 'main' ? legacyModelDir(repo) : null;
  if (legacy) {
    trace(
      `found in the older mini-gpt cache: ${legacy} (npx mini-gpt download ${model} moves it into the Hugging Face cache)`,
    );
    return { dir: legacy };
  }
  const retry = `npx mini-gpt download ${model}${revision === 'main' ? '' : ` --revision ${revision}`}`;
  if (settings.offline)
    throw new Error(
      `${model} is not in the Hugging Face cache (searched ${folder}) and HF_HUB_OFFLINE is set: download it with a network: ${retry}`,
    );
  return { repo, revision, folder };
}

/** `request`'s result; an unreachable hub said as "<model> is not in the Hugging Face cache (searched …), and <why>". */
export async function fromHub<R>(model: string, at: { folder: string }, request: () => Promise<R>): Promise<R> {
  try {
    return await request();
  } catch (e) {
    if (e instanceof G.HubError && e.status === 0)
      throw new Error(`${model} is not in the Hugging Face cache (searched ${at.folder}), and ${e.message}`);
    throw e;
  }
}

/**
 * The folder holding config.json + model.safetensors for a --model argument (locateModel),
 * downloading a repository the cache lacks.
 */
export async function resolveModel(model: string, revision = 'main'): Promise<string> {
  const at = locateModel(model, revision);
  if ('dir' in at) return at.dir;
  trace(`downloading into ${G.hubSettings().cacheDir}`);
  return (await fromHub(model, at, () => fetchModel(at.repo, at.revision))).dir;
}

/**
 * Loads a model folder for inference in the dtype `--dtype` asks for; when auto picks a
 * 16-bit dtype it says so in one line on stderr (stdout may be the generated text).
 */
export async function loadForInference(dir: string, device: Device, dtype: G.WeightDTypeChoice): Promise<G.GPTModel> {
  if (dtype === 'auto' && G.isQuantDType((await G.inspectModel(dir)).fileDType))
    return G.loadModel(dir, device, { dtype });
  const choice = G.resolveWeightDType(dtype, await G.loadConfig(dir), device);
  if (choice.reason) process.stderr.write(`${choice.reason}\n`);
  return G.loadModel(dir, device, { dtype: choice.dtype });
}
