/**
 * mini-gpt's own cache (env-paths: ~/.cache/mini-gpt on Linux, or MINI_GPT_CACHE): the book's
 * text in <cache>/data, and GPT-2 models downloaded by mini-gpt before it used the shared
 * Hugging Face cache, in <cache>/models/<name>. Models now live in the Hugging Face cache
 * (HF_HUB_CACHE, HF_HOME; see models.ts and @mini/gpt's node/hub.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import * as G from '@mini/gpt/node';
import { cacheSetting } from './environment.js';

export function cacheDir(): string {
  return cacheSetting() ?? envPaths('mini-gpt', { suffix: '' }).cache;
}

/** The folder of the older mini-gpt cache for a GPT-2 repository, if a model is there (it only ever held main). */
export function legacyModelDir(repo: string): string | null {
  const name = Object.entries(G.GPT2_REPOSITORIES).find(([, id]) => id === repo)?.[0];
  const dir = name && join(cacheDir(), 'models', name);
  return dir && existsSync(join(dir, 'model.safetensors')) && existsSync(join(dir, 'config.json')) ? dir : null;
}
