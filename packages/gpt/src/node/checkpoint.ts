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
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as T from '@mini/tensor';
import type { Device } from '@mini/tensor';
import { type GPTConfig, parameterCount } from '../config.js';
import { fromHFConfig, inspectHFModel, loadHFModel, saveHFModel, toHFConfig } from '../hf.js';
import { parseJsonStrict } from '../json.js';
import { admitMemory } from '../memory.js';
import { GPTModel, ModelError } from '../model.js';
import {
  type DTypeChoice,
  type ModelDType,
  type WeightDTypeChoice,
  bytesPerParameter,
  checkDTypeChoice,
  chooseWeightDType,
  isQuantDType,
  modelDTypes,
} from '../weight-dtype.js';
import { AdamW, type AdamWOptions } from '../optimizer.js';
import { type ByteSink, SafetensorsError, readHeader, readTensor, writeSafetensors } from '../safetensors.js';
import type { TrainState } from '../train.js';
import {
  FileError,
  exists,
  brokenLink,
  fileProblem,
  fileSource,
  makeDirs,
  regularFileSize,
  writeFileAtomic,
  writeTextAtomic,
} from './files.js';
import { availableMemory } from './memory.js';

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
 * @throws CheckpointError, before anything is written, for a state that is not a TrainState
 *   (its fields as loadCheckpoint reads them) or an optimizer that is not this model's;
 *   FileError and ModelError as saveModel
 */
/**
 * A TrainState's fields as trainModel and loadCheckpoint read them, checked where a checkpoint
 * is written and where it is read (`where`: the function or file, for the message).
 * @throws CheckpointError naming the field and its value
 */
function checkTrainState(state: TrainState, where: string): void {
  const fail = (what: string, value: unknown): never => {
    throw new CheckpointError(`${where}: ${what}, got ${JSON.stringify(value) ?? String(value)}`);
  };
  if (typeof state !== 'object' || state === null || Array.isArray(state))
    fail('the state is not a training state (use initialTrainState() or what trainModel returned)', state);
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  for (const key of ['epoch', 'batch', 'steps', 'tokensSeen', 'dropoutStream'] as const)
    if (!count(state[key])) fail(`state.${key} must be an integer >= 0`, state[key]);
  if (!Array.isArray(state.history)) fail('state.history must be an array', state.history);
  if (state.dropoutSeed !== null && !count(state.dropoutSeed))
    fail('state.dropoutSeed must be null or an integer >= 0', state.dropoutSeed);
  const rng = state.torchRng;
  if (rng !== undefined && rng !== null && (typeof rng !== 'object' || !count(rng.seed)))
    fail('state.torchRng must be null or a torch generator state', rng);
  const order = state.epochOrder;
  if (order !== undefined && order !== null && !(Array.isArray(order) && order.every(count)))
    fail('state.epochOrder must be null or an array of window indices', order);
}

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
  // Checked before anything is written: a checkpoint loadCheckpoint cannot read is no checkpoint.
  checkFolderPath(dir, 'saveCheckpoint');
  checkSavable(model, 'saveCheckpoint');
  checkTrainState(state, 'saveCheckpoint');
  if (!(optimizer instanceof AdamW)) throw new CheckpointError('saveCheckpoint: optimizer is not an AdamW');
  for (const [name, p] of model.params)
    if (optimizer.params.get(name) !== p)
      throw new CheckpointError(
        `saveCheckpoint: the optimizer belongs to another model (it has no moment for this model's ${name})`,
      );
  const staging = `${dir}.saving-${randomBytes(4).toString('hex')}`;
  await makeFolder(staging);
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
  // Only the names saveCheckpoint makes (8 hex digits): a file of the user's that merely shares
  // the prefix is not ours to delete. rmSync removes a link, never what it points to.
  const ours = (name: string) => name.startsWith(prefix) && /^[0-9a-f]{8}$/.test(name.slice(prefix.length));
  let names: string[];
  try {
    names = readdirSync(dirname(dir)).filter(ours).sort();
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
 * stops the writing between two tensors and rejects, leaving no partial file; a save that
 * fails removes the folders it made.
 * @throws FileError for an empty path, a folder that cannot be made or written into (naming
 *   it); ModelError for something not a GPTModel or a disposed weight (before any folder is made)
 */
export async function saveModel(dir: string, model: GPTModel, signal?: AbortSignal): Promise<void> {
  checkFolderPath(dir, 'saveModel');
  checkSavable(model, 'saveModel');
  signal?.throwIfAborted();
  const created = await makeFolder(dir);
  try {
    await writeFileAtomic(join(dir, 'model.safetensors'), (sink) => saveHFModel(abortable(sink, signal), model));
    await writeTextAtomic(join(dir, 'config.json'), JSON.stringify(toHFConfig(model.config), null, 2));
  } catch (e) {
    // The folders this call made go again; a folder that was there keeps its old files (each
    // file is replaced atomically, so none is half-written).
    if (created) await rm(created, { recursive: true, force: true });
    throw e;
  }
}

/** A folder to write into: '' would be the working folder, and its files replaced silently. */
function checkFolderPath(dir: unknown, where: string): void {
  if (typeof dir !== 'string' || dir.trim() === '')
    throw new FileError(`${where}: the folder path is empty or not a string (${JSON.stringify(dir) ?? String(dir)})`);
}

/** A live GPTModel: a disposed weight is found before a folder is made, not halfway through writing. */
function checkSavable(model: GPTModel, where: string): void {
  if (!(model instanceof GPTModel)) throw new ModelError(`${where}: not a GPTModel (${String(model)})`);
  for (const [name, p] of model.params)
    if (p.data.isDisposed) throw new ModelError(`${where}: parameter ${name} is disposed`);
}

/** makeDirs with its failure as FileError "<dir>: <why>"; returns the topmost folder it made. */
async function makeFolder(dir: string): Promise<string | undefined> {
  return makeDirs(dir).catch((e: NodeJS.ErrnoException) => {
    // ENOENT after the parents were found: a link that leads nowhere (fileProblem says so), or a
    // file system that takes no new entries (/proc).
    const why = e.code === 'ENOENT' && !(e.path && brokenLink(e.path)) ? 'cannot make a folder there' : fileProblem(e);
    throw new FileError(`${dir}: ${why}${e.path && e.path !== dir ? ` (${e.path})` : ''}`);
  });
}

/** A JSON file's value; a missing file, bad JSON or a key given twice is a CheckpointError naming the file. */
async function readJson(path: string): Promise<unknown> {
  await regularFileSize(path).catch((e: Error) => {
    throw new CheckpointError(e.message);
  });
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new CheckpointError(`${path}: ${fileProblem(e)}`);
  });
  // A byte-order mark (Windows editors write one) is not JSON, but not a fault of the content either.
  const parsed = parseJsonStrict(text.startsWith('\uFEFF') ? text.slice(1) : text);
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
 * (availableMemory(); the rule is chooseWeightDType's); an explicit dtype as is.
 */
export function resolveWeightDType(choice: WeightDTypeChoice, config: GPTConfig, device: Device): DTypeChoice {
  return chooseWeightDType(choice, parameterCount(config), device, availableMemory());
}

export interface LoadModelOptions {
  /** The weights' dtype; `auto` as resolveWeightDType. Default: the file's dtype. */
  dtype?: WeightDTypeChoice;
}

/**
 * Throws MemoryError before anything is loaded when a model's weights (`bytes`, held in `dtype`) need
 * more than this machine has available ("<file>: needs 65.0 GB for weights (float16), 22.1 GB
 * available"). A WebGPU device holds its weights in the GPU's memory, which the API does not
 * report: nothing is checked there.
 */
export function admitWeights(file: string, bytes: number, dtype: string, device: Device): void {
  if (device.kind === 'webgpu') return;
  const hint = dtype === 'float32' ? '; float16 or bfloat16 weights take half' : '';
  admitMemory(file, `weights (${dtype}${hint})`, bytes, availableMemory());
}

/**
 * A model from a folder with model.safetensors and config.json (ours or Hugging Face's).
 * @throws MemoryError (admitWeights) before loading a model larger than the available memory;
 *   CheckpointError, ConfigError, SafetensorsError for files that are missing, malformed or mismatched
 */
export async function loadModel(dir: string, device: Device, options: LoadModelOptions = {}): Promise<GPTModel> {
  if (options.dtype !== undefined) checkDTypeChoice('loadModel', options.dtype, ['auto', ...modelDTypes]);
  const config = await loadConfig(dir);
  const file = join(dir, 'model.safetensors');
  const source = await fileSource(file);
  try {
    const { fileDType } = await inspectHFModel(source, config);
    // A quantized file loads as its own format: `auto` means that format there.
    const quantizedFile = options.dtype === 'auto' && isQuantDType(fileDType);
    const dtype =
      options.dtype === undefined || quantizedFile
        ? undefined
        : resolveWeightDType(options.dtype, config, device).dtype;
    // The weights' bytes as held (the file's dtype unless converted): checked against the
    // available memory before anything is loaded, and the CPU heap's size hint.
    const held = dtype === undefined ? source.size : bytesPerParameter(dtype) * parameterCount(config);
    admitWeights(file, held, dtype ?? fileDType, device);
    device.backend.reserve?.(held);
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
    if (typeof file !== 'object' || file === null || file.format !== 'mini-gpt-checkpoint/1')
      throw new CheckpointError(`${statePath}: unknown format ${JSON.stringify(file?.format)}`);
    checkTrainState(file.state, statePath);
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
  // Weights, gradients and AdamW's two moments, float32: the CPU heap's size hint, and what
  // must fit in memory before anything is loaded.
  const trainingBytes = 16 * parameterCount(await loadConfig(folder));
  if (device.kind !== 'webgpu')
    admitMemory(folder, 'float32 weights, gradients and AdamW moments', trainingBytes, availableMemory());
  device.backend.reserve?.(trainingBytes);
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
        // Into the optimizer's own tensor: a view of its flat moments (one GPU binding for all).
        T.tidy(() =>
          T.copyInto(target.get(name)!, T.tensor(values, { shape: p.shape, device, dtype: target.get(name)!.dtype })),
        );
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
