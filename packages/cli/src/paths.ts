/**
 * Where things live: the cache (env-paths: ~/.cache/mini-gpt on Linux, or MINI_GPT_CACHE),
 * downloaded GPT-2 models in <cache>/models/<name>, the book's text in <cache>/data, and how a
 * --model argument resolves (a run folder, a folder with model.safetensors, a .safetensors
 * file with config.json beside it, or a GPT-2 name from the cache).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import envPaths from 'env-paths';
import { GPT2_REPOSITORIES } from '@mini/gpt/node';
import { UsageError } from './ui.js';

export function cacheDir(): string {
  return process.env.MINI_GPT_CACHE ?? envPaths('mini-gpt', { suffix: '' }).cache;
}

export function modelCacheDir(name: string): string {
  return join(cacheDir(), 'models', name);
}

/** The folder holding config.json + model.safetensors for a --model argument. */
export function resolveModelDir(model: string): string {
  if (existsSync(model)) {
    if (statSync(model).isDirectory()) {
      if (existsSync(join(model, 'checkpoint', 'model.safetensors'))) return join(model, 'checkpoint'); // a training run
      if (existsSync(join(model, 'model.safetensors'))) return model;
      throw new UsageError(`${model}: no model.safetensors in this folder (nor in ${join(model, 'checkpoint')})`);
    }
    if (model.endsWith('.safetensors')) {
      if (basename(model) !== 'model.safetensors') throw new UsageError(`${model}: name the file model.safetensors, with its config.json beside it`);
      if (!existsSync(join(dirname(model), 'config.json'))) throw new UsageError(`${model}: config.json is missing beside it`);
      return dirname(model);
    }
    throw new UsageError(`${model}: not a run folder, a model folder or a .safetensors file`);
  }
  if (model in GPT2_REPOSITORIES) {
    const dir = modelCacheDir(model);
    if (existsSync(join(dir, 'model.safetensors'))) return dir;
    throw new UsageError(`${model} is not downloaded yet: run  mini-gpt download ${model}`);
  }
  throw new UsageError(`${model}: no such file or folder, and not a GPT-2 name (${Object.keys(GPT2_REPOSITORIES).join(', ')})`);
}
