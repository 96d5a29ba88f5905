/**
 * train's options and what a checkpoint keeps of them: the flags, which of them --resume may
 * change (MUTABLE) and which it refuses to (FIXED), and how typed flags merge into a saved run.
 */
import { resolve } from 'node:path';
import * as G from '@mini/gpt/node';
import type { TrainOptions } from '../main.js';
import { type DataSource, readData } from '../corpus.js';
import { type TextIdentity, checkResumeText, sourceIdentity } from '../text-identity.js';
import { UsageError } from '../ui.js';

/** train's flags (with the global --verbose), typed by their definitions in main.ts. */
export type TrainFlags = TrainOptions;

/** What a checkpoint keeps so --resume continues the same run. */
export interface RunSettings {
  flags: TrainFlags;
  dataPath: string;
  /** The text's size and hash: --resume compares content, not the path (absent in older checkpoints). */
  text?: TextIdentity;
}

/** Flags that --resume takes from the command line (the run continues with the new value). */
export const MUTABLE = [
  'epochs',
  'evalFreq',
  'evalIter',
  'startContext',
  'sampleTokens',
  'lr',
  'warmupSteps',
  'initialLr',
  'cosine',
  'minLr',
  'gradClip',
  'optimizerState',
  'maxSteps',
  'saveEvery',
] as const satisfies readonly (keyof TrainFlags)[];
/** Flags a run cannot change midway: typed with --resume, they must match the saved value. */
export const FIXED = [
  'preset',
  'contextLength',
  'stride',
  'dropout',
  'qkvBias',
  'tiedHead',
  'mlpDim',
  'init',
  'batchSize',
  'weightDecay',
  'trainRatio',
  'seed',
  'rng',
  'gradAccum',
] as const satisfies readonly (keyof TrainFlags)[];

/** --context-length style name of a flag's attribute. */
export const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * The saved run's settings with the flags typed now: mutable ones replace the saved values
 * (returned as `changes`), fixed ones must equal them.
 */
export function mergeResumeFlags(
  saved: RunSettings,
  flags: TrainFlags,
  typed: ReadonlySet<string>,
): { settings: RunSettings; changes: string[] } {
  for (const key of FIXED) {
    if (typed.has(key) && flags[key] !== saved.flags[key]) {
      throw new UsageError(
        `${flagName(key)} cannot change when resuming: the run was started with ${JSON.stringify(saved.flags[key])}, you typed ${JSON.stringify(flags[key])}`,
      );
    }
  }
  const merged: TrainFlags = { ...saved.flags, device: flags.device, json: flags.json };
  const changes: string[] = [];
  for (const key of MUTABLE) {
    if (!typed.has(key) || flags[key] === saved.flags[key]) continue;
    (merged as unknown as Record<string, unknown>)[key] = flags[key];
    changes.push(`${flagName(key)} ${JSON.stringify(saved.flags[key] ?? null)} -> ${JSON.stringify(flags[key])}`);
  }
  return { settings: { ...saved, flags: merged }, changes };
}

/** One line on what a longer run does to the learning-rate schedule. */
export function scheduleNote(f: TrainFlags, stepsBefore: number, stepsNow: number): string {
  // Fewer epochs than before shorten the run: never "the added -2664 steps".
  if (stepsNow < stepsBefore) {
    const shorter = `the run is shortened from ${stepsBefore} to ${stepsNow} steps`;
    return f.cosine
      ? `${shorter}, so the cosine decay is compressed and reaches its floor ${f.minLr ?? 0.1 * f.lr} at step ${stepsNow}`
      : `${shorter}; the learning rate stays ${f.lr} (no decay)`;
  }
  if (!f.cosine) return `the learning rate stays ${f.lr} (no decay) for the added ${stepsNow - stepsBefore} steps`;
  return `the cosine decay is stretched from ${stepsBefore} to ${stepsNow} steps, so it reaches its floor ${f.minLr ?? 0.1 * f.lr} at step ${stepsNow}`;
}

/**
 * A new run's model config from its flags, after the checks of --init and --rng.
 * @throws UsageError for an unknown --init or --rng, or --rng torch without --init pytorch
 */
export function newRunConfig(flags: TrainFlags): G.GPTConfig {
  const config = G.resolveConfig(flags.preset as G.PresetName, {
    contextLength: flags.contextLength,
    dropRate: flags.dropout,
    qkvBias: flags.qkvBias,
    tiedHead: flags.tiedHead,
    mlpDim: flags.mlpDim,
  });
  if (flags.init !== 'pytorch' && flags.init !== 'gpt2')
    throw new UsageError(`--init must be pytorch or gpt2, got "${flags.init}"`);
  if (flags.rng !== undefined && flags.rng !== 'torch' && flags.rng !== 'fast')
    throw new UsageError(`--rng must be torch or fast, got "${flags.rng}"`);
  if (flags.rng === 'torch' && flags.init !== 'pytorch')
    throw new UsageError("--rng torch draws the book's initialisation: it needs --init pytorch");
  return config;
}

/**
 * A resumed run's settings: the saved ones with the flags typed now (mutable ones applied,
 * fixed ones checked), and its data read again, checked to be the text it was trained on.
 * @throws UsageError when the checkpoint keeps no settings, the run is finished, or the data changed
 */
export async function resumeSettings(
  loaded: G.LoadedCheckpoint,
  flags: TrainFlags,
  typed: ReadonlySet<string>,
): Promise<{ settings: RunSettings; changes: string[]; savedEpochs: number; source: DataSource }> {
  const saved = loaded.extra as RunSettings;
  if (!saved?.flags) throw new UsageError(`${flags.resume}: the checkpoint does not record its run settings`);
  const savedEpochs = saved.flags.epochs;
  const { settings, changes } = mergeResumeFlags(
    {
      ...saved,
      flags: {
        ...saved.flags,
        optimizerState: saved.flags.optimizerState ?? true,
        gradAccum: saved.flags.gradAccum ?? 1,
      },
    },
    flags,
    typed,
  );
  if (settings.flags.maxSteps === undefined && loaded.state.epoch >= settings.flags.epochs) {
    throw new UsageError(
      `--resume ${flags.resume}: the run already trained ${loaded.state.epoch} epoch${loaded.state.epoch === 1 ? '' : 's'}${settings.flags.epochs < loaded.state.epoch ? ` (more than --epochs ${settings.flags.epochs})` : ''}; give --epochs above ${loaded.state.epoch} to train further`,
    );
  }
  // The same content may have moved: --data names it; its identity is checked, not its path.
  const path = typed.has('data') ? resolve(flags.data!) : saved.dataPath;
  const source = await readData(path);
  const identity = sourceIdentity(source);
  checkResumeText(saved.text, saved.dataPath, path, identity);
  return { settings: { ...settings, dataPath: path, text: identity }, changes, savedEpochs, source };
}
