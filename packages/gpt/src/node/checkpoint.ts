/**
 * Checkpoints: a folder with the model (model.safetensors + config.json, Hugging Face layout),
 * the optimizer (optimizer.safetensors: m and v per parameter) and trainer_state.json (step,
 * epoch, batch, tokens seen, loss history, dropout stream, optimizer settings).
 *
 * Saving is atomic for the folder as a whole: everything is written into a fresh sibling
 * folder, then swapped in by renames. If a crash falls between the two renames, the previous
 * checkpoint is still complete under "<dir>.previous", and loadCheckpoint looks there.
 */
import { MiniGptError } from '@mini/tensor';
import { readdirSync, rmSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { freemem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as T from '@mini/tensor';
import type { Device } from '@mini/tensor';
import { type GPTConfig, parameterCount } from '../config.js';
import { fromHFConfig, inspectHFModel, loadHFModel, saveHFModel, toHFConfig } from '../hf.js';
import { parseJsonStrict } from '../json.js';
import type { GPTModel } from '../model.js';
import {
  type DTypeChoice,
  type ModelDType,
  type WeightDTypeChoice,
  bytesPerParameter,
  chooseWeightDType,
  isQuantDType,
} from '../weight-dtype.js';
import { AdamW, type AdamWOptions } from '../optimizer.js';
import { type ByteSink, SafetensorsError, readHeader, readTensor, writeSafetensors } from '../safetensors.js';
import type { TrainState } from '../train.js';
import {
  exists,
  fileProblem,
  fileSource,
  makeDirs,
  regularFileSize,
  writeFileAtomic,
  writeTextAtomic,
} from './files.js';

export class CheckpointError extends MiniGptError {
  override name = 'CheckpointError';
}

interface TrainerStateFile {
  format: 'mini-gpt-checkpoint/1';
  state: TrainState;
  /** false: saved without optimizer.safetensors (a model to use, not a run to resume). Absent: true. */
  optimizerState?: boolean;
  optimizer: Required<AdamWOptions> & { step: number };
  /** Anything the caller wants back on resume (the CLI keeps its settings here). */
  extra: unknown;
}

/**
 * Saves model, optimizer and training state into `dir`, replacing what was there atomically.
 * With `optimizerState: false` the optimizer's moments (twice the model's size) are not
 * written: the model can be used, but the run cannot be resumed from it. An aborted `signal`
 * (a second Ctrl-C) stops the writing between two tensors: the staging folder is removed, the
 * previous checkpoint stays, and the promise rejects with the signal's reason.
 */
export async function saveCheckpoint(
  dir: string,
  model: GPTModel,
  optimizer: AdamW,
  state: TrainState,
  extra: unknown = null,
  options: { optimizerState?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  const optimizerState = options.optimizerState ?? true;
  const { signal } = options;
  const staging = `${dir}.saving-${randomBytes(4).toString('hex')}`;
  await makeDirs(staging);
  try {
    await saveModel(staging, model, signal);
    if (optimizerState) {
      await writeFileAtomic(join(staging, 'optimizer.safetensors'), (sink) =>
        writeSafetensors(
          abortable(sink, signal),
          [...optimizer.m.keys()].flatMap((name) => [
            {
              name: `m.${name}`,
              shape: optimizer.m.get(name)!.shape,
              dtype: 'F32' as const,
              data: () => optimizer.m.get(name)!.toArray(),
            },
            {
              name: `v.${name}`,
              shape: optimizer.v.get(name)!.shape,
              dtype: 'F32' as const,
              data: () => optimizer.v.get(name)!.toArray(),
            },
          ]),
        ),
      );
    }
    const file: TrainerStateFile = {
      format: 'mini-gpt-checkpoint/1',
      state,
      optimizerState,
      optimizer: {
        lr: optimizer.lr,
        betas: optimizer.betas,
        eps: optimizer.eps,
        weightDecay: optimizer.weightDecay,
        step: optimizer.step,
      },
      extra,
    };
    await writeTextAtomic(join(staging, 'trainer_state.json'), JSON.stringify(file, null, 2));
    signal?.throwIfAborted(); // past here the folder is whole: the swap (two renames) is not cut short
    const previous = `${dir}.previous`;
    // NOTE: "<dir>.previous" may be the only whole checkpoint (a crash between the renames of an
    // earlier save left no <dir>): it is replaced only when <dir> is there to take its place.
    if (await exists(dir)) {
      await rm(previous, { recursive: true, force: true });
      await rename(dir, previous);
    }
    await rename(staging, dir);
    await rm(previous, { recursive: true, force: true });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Removes what an interrupted saveCheckpoint(dir) left beside `dir` ("<dir>.saving-…" folders).
 * Synchronous, so that it can run in a signal handler just before the process exits.
 */
export function removeUnfinishedSaves(dir: string): string[] {
  const prefix = `${basename(dir)}.saving-`;
  let names: string[];
  try {
    names = readdirSync(dirname(dir)).filter((name) => name.startsWith(prefix));
  } catch {
    return []; // no parent folder: nothing was saved there
  }
  for (const name of names) rmSync(join(dirname(dir), name), { recursive: true, force: true });
  return names;
}

/** A sink that throws the signal's reason before each write once it is aborted. */
function abortable(sink: ByteSink, signal: AbortSignal | undefined): ByteSink {
  return signal
    ? {
        write: (bytes) => {
          signal.throwIfAborted();
          return sink.write(bytes);
        },
      }
    : sink;
}

/**
 * model.safetensors + config.json into `dir` (each written atomically). An aborted `signal`
 * stops the writing between two tensors and rejects, leaving no partial file.
 */
export async function saveModel(dir: string, model: GPTModel, signal?: AbortSignal): Promise<void> {
  await makeDirs(dir);
  await writeFileAtomic(join(dir, 'model.safetensors'), (sink) => saveHFModel(abortable(sink, signal), model));
  await writeTextAtomic(join(dir, 'config.json'), JSON.stringify(toHFConfig(model.config), null, 2));
}

/** A JSON file's value; a missing file, bad JSON or a key given twice is a CheckpointError naming the file. */
async function readJson(path: string): Promise<unknown> {
  await regularFileSize(path).catch((e: Error) => {
    throw new CheckpointError(e.message);
  });
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new CheckpointError(`${path}: ${fileProblem(e)}`);
  });
  const parsed = parseJsonStrict(text);
  if ('error' in parsed) throw new CheckpointError(`${path} ${parsed.error}`);
  return parsed.value;
}

/** The GPTConfig of a folder's config.json (ours or Hugging Face's). */
export async function loadConfig(dir: string): Promise<GPTConfig> {
  const configPath = join(dir, 'config.json');
  return fromHFConfig(await readJson(configPath), configPath);
}

/**
 * A model folder's config and what its model.safetensors holds, from the file's header alone
 * (no weight is read): the weight matrices' dtype in the file and the file's size in bytes.
 * Throws CheckpointError/ConfigError for config.json and SafetensorsError for a weights file
 * that is missing, cut, malformed or does not fit the config (as loadModel would, but at once).
 */
export async function inspectModel(dir: string): Promise<{ config: GPTConfig; fileDType: ModelDType; bytes: number }> {
  const config = await loadConfig(dir);
  const source = await fileSource(join(dir, 'model.safetensors'));
  try {
    return { config, ...(await inspectHFModel(source, config)) };
  } finally {
    await source.close();
  }
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
  const source = await fileSource(join(dir, 'model.safetensors'));
  try {
    // A quantized file loads as its own format: `auto` means that format there.
    const quantizedFile = options.dtype === 'auto' && isQuantDType((await inspectHFModel(source, config)).fileDType);
    const dtype =
      options.dtype === undefined || quantizedFile
        ? undefined
        : resolveWeightDType(options.dtype, config, device).dtype;
    // The weights' bytes as stored (the file's dtype unless converted): the CPU heap's size hint.
    device.backend.reserve?.(dtype === undefined ? source.size : bytesPerParameter(dtype) * parameterCount(config));
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

export interface CheckpointSummary {
  /** The folder read: `dir`, or "<dir>.previous" after an interrupted swap. */
  folder: string;
  state: TrainState;
  /** false: saved without the optimizer's moments (--no-optimizer-state): it cannot be resumed. */
  optimizerState: boolean;
  extra: unknown;
}

/** The trainer_state.json of `dir`, else of "<dir>.previous" (an interrupted swap); null without one. */
async function readStateFile(dir: string): Promise<{ folder: string; file: TrainerStateFile } | null> {
  for (const folder of [dir, `${dir}.previous`]) {
    const statePath = join(folder, 'trainer_state.json');
    if (!(await exists(statePath))) continue;
    const file = (await readJson(statePath)) as TrainerStateFile;
    if (file.format !== 'mini-gpt-checkpoint/1')
      throw new CheckpointError(`${statePath}: unknown format ${JSON.stringify(file.format)}`);
    return { folder, file };
  }
  return null;
}

/**
 * A checkpoint's state and settings without loading its tensors (from "<dir>.previous" after
 * an interrupted swap); null where neither folder holds one. Throws CheckpointError for an
 * unreadable file or an unknown format.
 */
export async function readCheckpointSummary(dir: string): Promise<CheckpointSummary | null> {
  const read = await readStateFile(dir);
  return (
    read && {
      folder: read.folder,
      state: read.file.state,
      optimizerState: read.file.optimizerState !== false,
      extra: read.file.extra,
    }
  );
}

/** Loads what saveCheckpoint wrote (falling back to "<dir>.previous" after an interrupted swap). */
export async function loadCheckpoint(dir: string, device: Device): Promise<LoadedCheckpoint> {
  const read = await readStateFile(dir);
  if (!read) throw new CheckpointError(`${dir}: no checkpoint here (trainer_state.json is missing)`);
  const { folder, file } = read;
  if (file.optimizerState === false) {
    throw new CheckpointError(
      `${folder}: saved without the optimizer state (--no-optimizer-state), so the run cannot be resumed; the model in it still loads (generate, eval)`,
    );
  }
  // Weights, gradients and AdamW's two moments, float32: the CPU heap's size hint.
  device.backend.reserve?.(16 * parameterCount(await loadConfig(folder)));
  const model = await loadModel(folder, device);
  const { step, ...options } = file.optimizer;
  const optimizer = new AdamW(model.params, options);
  optimizer.step = step;
  const source = await fileSource(join(folder, 'optimizer.safetensors'));
  try {
    const header = await readHeader(source);
    for (const [name, p] of model.params) {
      for (const [prefix, target] of [
        ['m', optimizer.m],
        ['v', optimizer.v],
      ] as const) {
        const entry = header.tensors.get(`${prefix}.${name}`);
        if (!entry) throw new SafetensorsError(`${source.name}: missing tensor "${prefix}.${name}"`);
        if (!T.shapesEqual(entry.shape, p.shape))
          throw new SafetensorsError(
            `${source.name}: tensor "${prefix}.${name}" has shape [${entry.shape.join(', ')}], the model needs [${p.shape.join(', ')}]`,
          );
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
  if (file.state.dropoutSeed !== null)
    model.dropoutState = { seed: file.state.dropoutSeed, stream: file.state.dropoutStream };
  // A torch-stream run: its generator continues where the checkpoint left it.
  if (file.state.torchRng) {
    const generator = new T.TorchGenerator(file.state.torchRng.seed);
    generator.state = file.state.torchRng;
    model.torchGenerator = generator;
  }
  return { model, optimizer, state: file.state, extra: file.extra };
}
