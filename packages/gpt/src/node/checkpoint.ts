/**
 * Checkpoints: a folder with the model (model.safetensors + config.json, Hugging Face layout),
 * the optimizer (optimizer.safetensors: m and v per parameter) and trainer_state.json (step,
 * epoch, batch, tokens seen, loss history, dropout stream, optimizer settings).
 *
 * Saving is atomic for the folder as a whole: everything is written into a fresh sibling
 * folder, then swapped in by renames. If a crash falls between the two renames, the previous
 * checkpoint is still complete under "<dir>.previous", and loadCheckpoint looks there.
 */
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as T from '@mini/tensor';
import type { Device } from '@mini/tensor';
import { fromHFConfig, loadHFModel, saveHFModel, toHFConfig } from '../hf.js';
import { type GPTConfig, parameterCount } from '../config.js';
import type { GPTModel } from '../model.js';
import { type DTypeChoice, type WeightDTypeChoice, chooseWeightDType } from '../weight-dtype.js';
import { AdamW, type AdamWOptions } from '../optimizer.js';
import { SafetensorsError, readHeader, readTensor, writeSafetensors } from '../safetensors.js';
import type { TrainState } from '../train.js';
import { exists, fileSource, writeFileAtomic, writeTextAtomic } from './files.js';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

interface TrainerStateFile {
  format: 'mini-gpt-checkpoint/1';
  state: TrainState;
  optimizer: Required<AdamWOptions> & { step: number };
  /** Anything the caller wants back on resume (the CLI keeps its settings here). */
  extra: unknown;
}

/** Saves model, optimizer and training state into `dir`, replacing what was there atomically. */
export async function saveCheckpoint(dir: string, model: GPTModel, optimizer: AdamW, state: TrainState, extra: unknown = null): Promise<void> {
  const staging = `${dir}.saving-${randomBytes(4).toString('hex')}`;
  await mkdir(staging, { recursive: true });
  try {
    await saveModel(staging, model);
    await writeFileAtomic(join(staging, 'optimizer.safetensors'), (sink) => writeSafetensors(sink, [...optimizer.m.keys()].flatMap((name) => [
      { name: `m.${name}`, shape: optimizer.m.get(name)!.shape, dtype: 'F32' as const, data: () => optimizer.m.get(name)!.toArray() },
      { name: `v.${name}`, shape: optimizer.v.get(name)!.shape, dtype: 'F32' as const, data: () => optimizer.v.get(name)!.toArray() },
    ])));
    const file: TrainerStateFile = {
      format: 'mini-gpt-checkpoint/1',
      state,
      optimizer: { lr: optimizer.lr, betas: optimizer.betas, eps: optimizer.eps, weightDecay: optimizer.weightDecay, step: optimizer.step },
      extra,
    };
    await writeTextAtomic(join(staging, 'trainer_state.json'), JSON.stringify(file, null, 2));
    const previous = `${dir}.previous`;
    await rm(previous, { recursive: true, force: true });
    if (await exists(dir)) await rename(dir, previous);
    await rename(staging, dir);
    await rm(previous, { recursive: true, force: true });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/** model.safetensors + config.json into `dir` (each written atomically). */
export async function saveModel(dir: string, model: GPTModel): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'model.safetensors'), (sink) => saveHFModel(sink, model));
  await writeTextAtomic(join(dir, 'config.json'), JSON.stringify(toHFConfig(model.config), null, 2));
}

/** The config.json of a model folder. */
export async function loadConfig(dir: string): Promise<GPTConfig> {
  const configPath = join(dir, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${configPath}: ${(e as Error).message}`);
  }
  return fromHFConfig(json, configPath);
}

/**
 * `auto` resolved for a model of `config` on `device` against this machine's free memory
 * (os.freemem(); the rule is chooseWeightDType's); an explicit dtype as is.
 */
export function resolveWeightDType(choice: WeightDTypeChoice, config: GPTConfig, device: Device): DTypeChoice {
  return chooseWeightDType(choice, parameterCount(config), device, freemem());
}

export interface LoadModelOptions {
  /** The weights' dtype; `auto` as resolveWeightDType. Default: the file's dtype. */
  dtype?: WeightDTypeChoice;
}

/** A model from a folder with model.safetensors and config.json (ours or Hugging Face's). */
export async function loadModel(dir: string, device: Device, options: LoadModelOptions = {}): Promise<GPTModel> {
  const config = await loadConfig(dir);
  const dtype = options.dtype === undefined ? undefined : resolveWeightDType(options.dtype, config, device).dtype;
  const source = await fileSource(join(dir, 'model.safetensors'));
  try {
    return await loadHFModel(source, config, device, { dtype });
  } finally {
    await source.close();
  }
}

export interface LoadedCheckpoint {
  model: GPTModel;
  optimizer: AdamW;
  state: TrainState;
  extra: unknown;
}

/** Loads what saveCheckpoint wrote (falling back to "<dir>.previous" after an interrupted swap). */
export async function loadCheckpoint(dir: string, device: Device): Promise<LoadedCheckpoint> {
  let folder = dir;
  if (!(await exists(join(dir, 'trainer_state.json')))) {
    if (await exists(join(`${dir}.previous`, 'trainer_state.json'))) folder = `${dir}.previous`;
    else throw new CheckpointError(`${dir}: no checkpoint here (trainer_state.json is missing)`);
  }
  const statePath = join(folder, 'trainer_state.json');
  let file: TrainerStateFile;
  try {
    file = JSON.parse(await readFile(statePath, 'utf8')) as TrainerStateFile;
  } catch (e) {
    throw new CheckpointError(`${statePath}: ${(e as Error).message}`);
  }
  if (file.format !== 'mini-gpt-checkpoint/1') throw new CheckpointError(`${statePath}: unknown format ${JSON.stringify(file.format)}`);
  const model = await loadModel(folder, device);
  const { step, ...options } = file.optimizer;
  const optimizer = new AdamW(model.params, options);
  optimizer.step = step;
  const source = await fileSource(join(folder, 'optimizer.safetensors'));
  try {
    const header = await readHeader(source);
    for (const [name, p] of model.params) {
      for (const [prefix, target] of [['m', optimizer.m], ['v', optimizer.v]] as const) {
        const entry = header.tensors.get(`${prefix}.${name}`);
        if (!entry) throw new SafetensorsError(`${source.name}: missing tensor "${prefix}.${name}"`);
        if (!T.shapesEqual(entry.shape, p.shape)) throw new SafetensorsError(`${source.name}: tensor "${prefix}.${name}" has shape [${entry.shape.join(', ')}], the model needs [${p.shape.join(', ')}]`);
        const values = await readTensor(header, `${prefix}.${name}`);
        target.get(name)!.dispose();
        target.set(name, T.keep(T.tensor(values, { shape: p.shape, device })));
      }
    }
  } catch (e) {
    model.dispose();
    optimizer.dispose();
    throw e;
  } finally {
    await source.close();
  }
  if (file.state.dropoutSeed !== null) model.dropoutState = { seed: file.state.dropoutSeed, stream: file.state.dropoutStream };
  return { model, optimizer, state: file.state, extra: file.extra };
}
