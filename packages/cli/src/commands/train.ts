/**
 * mini-gpt train: the book's chapter-5 run by default (gpt2-small layout, context 256, untied
 * head, no qkv bias, dropout 0.1, 10 epochs, batch 2, AdamW lr 0.0004 / weight decay 0.1,
 * evaluation every 5 steps on 5 batches, 90/10 split, seed 123, a sample after each epoch).
 * Writes to --out: checkpoint/ (config.json, model.safetensors, optimizer.safetensors,
 * trainer_state.json), losses.csv, loss.svg and loss.png. Ctrl-C, SIGTERM or SIGHUP saves and
 * prints how to resume (exit 130, 143, 129); a second one exits at once.
 *
 * --resume continues a saved run with its saved settings. Flags typed with it either change the
 * run from here on (MUTABLE: more epochs, evaluation, samples, learning-rate schedule), or are
 * refused when their value differs from the saved one (FIXED: data, model shape, batches, seed,
 * init), as a run cannot change them midway.
 */
import type { DeviceChoice } from '@mini/tensor';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as G from '@mini/gpt/node';
import { admitTraining, checkRates } from '../admission.js';
import { removeStaleReportTemps } from '../stale-temps.js';
import { type TextIdentity, checkResumeText, sourceIdentity } from '../text-identity.js';
import { deviceDescription, openDevice } from '../device.js';
import { defaultData } from '../data.js';
import { type DataSource, openDatasets, readData } from '../corpus.js';
import { UsageError, colors, formatBytes, notice, say, shellQuote, startProgress, stopProgress } from '../ui.js';
import { formatProfile, runProfile } from '../profile.js';
import { planSteps } from '../steps.js';
import { type StopSignal, onStopSignals, signalExitCode, signalLabel } from '../signals.js';

export interface TrainFlags extends G.TrainRecipe {
  preset: string;
  data?: string;
  out?: string;
  resume?: string;
  device: DeviceChoice;
  verbose?: boolean;
  stride?: number;
  init: string;
  warmupSteps: number;
  initialLr: number;
  cosine: boolean;
  minLr?: number;
  gradClip?: number;
  /** false (--no-optimizer-state): checkpoints keep the model only and cannot be resumed. */
  optimizerState: boolean;
  json?: boolean;
  /** Print where the time went (steps, evaluations, samples, checkpoints) at the end. */
  profile?: boolean;
  /** The random stream (G.RandomStream); undefined: torch on the CPU, fast on WebGPU (saved resolved). */
  rng?: string;
  /** Step-based runs (steps.ts): stop after N steps, save every N steps, N micro-batches per step. */
  maxSteps?: number;
  saveEvery?: number;
  gradAccum?: number;
}

/** What a checkpoint keeps so --resume continues the same run. */
interface RunSettings {
  flags: TrainFlags;
  dataPath: string;
  /** The text's size and hash: --resume compares content, not the path (absent in older checkpoints). */
  text?: TextIdentity;
}

/** Flags that --resume takes from the command line (the run continues with the new value). */
const MUTABLE = [
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
const FIXED = [
  'preset',
  'contextLength',
  'stride',
  'dropout',
  'qkvBias',
  'tiedHead',
  'init',
  'batchSize',
  'weightDecay',
  'trainRatio',
  'seed',
  'rng',
  'gradAccum',
] as const satisfies readonly (keyof TrainFlags)[];

/** The names OpenAI and the book give the GPT-2 sizes (the book's chapter-5 model is "GPT-2 124M" with an untied head). */
const GPT2_SIZES = { 'gpt2-small': '124M', 'gpt2-medium': '355M', 'gpt2-large': '774M', 'gpt2-xl': '1558M' } as const;

/** --context-length style name of a flag's attribute. */
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const evalLine = (r: G.LossRecord) =>
  `Ep ${r.epoch} (Step ${String(r.step).padStart(6, '0')}): Train loss ${r.trainLoss.toFixed(3)}, Val loss ${r.valLoss.toFixed(3)}`;

/** losses.csv, loss.svg and loss.png; `epochs`: the epochs the history covers. */
async function writeReports(out: string, history: G.LossRecord[], epochs: number): Promise<void> {
  await G.writeTextAtomic(join(out, 'losses.csv'), G.lossesCsv(history));
  const svg = G.lossPlotSvg(history, { epochs });
  await G.writeTextAtomic(join(out, 'loss.svg'), svg);
  await G.writeFileAtomic(join(out, 'loss.png'), (sink) =>
    sink.write(new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 } }).render().asPng()),
  );
}

/**
 * The folder --out names, created and writable, or a usage error naming --out. Returns the
 * topmost folder it created (undefined when `out` was there): removeIfEmpty takes it back
 * when the run stops before writing anything.
 */
async function prepareOut(out: string, typed: boolean, resuming = false): Promise<string | undefined> {
  const flag = resuming ? '--resume ' : typed ? '--out ' : 'the run folder ';
  try {
    const created = await G.makeDirs(out);
    await access(out, constants.W_OK);
    return created;
  } catch (e) {
    // A file on the way is named (makeDirs says which); other faults by their code (ENOENT under /proc, EACCES).
    const code =
      (e as NodeJS.ErrnoException).code === 'ENOTDIR' && (e as NodeJS.ErrnoException).path
        ? (e as Error).message
        : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    throw new UsageError(
      // --resume refuses --out: a resumed run writes where it is, so a read-only one must be copied.
      `${flag}${out}: cannot create or write this folder (${code})${resuming ? `; to resume it, copy the run folder somewhere writable and give the copy to --resume (${shellQuote(out)} -> another folder)` : typed ? '' : '; choose one with --out'}`,
    );
  }
}

/**
 * Refuses a run whose checkpoints cannot fit in `out`'s file system, before the model is made: a
 * full disk met at the first save lost the epoch trained before it. A save writes the new
 * checkpoint beside the last one, then swaps them, so from the second save on two are on disk
 * at once (a resumed run has one there already).
 */
function refuseFullDisk(
  out: string,
  flag: string,
  modelBytes: number,
  optimizerState: boolean,
  saves: number,
  resuming: boolean,
): void {
  const perSave = modelBytes * (optimizerState ? 3 : 1);
  const needed = perSave * (!resuming && saves > 1 ? 2 : 1);
  const { bavail, bsize } = statfsSync(out);
  const free = bavail * bsize;
  if (free >= needed) return;
  const what = `${formatBytes(modelBytes)} model${optimizerState ? ` + ${formatBytes(2 * modelBytes)} optimizer state` : ''}${needed > perSave ? ', twice: the new one beside the last one' : ''}`;
  // A resumed run cannot take --out or drop its optimizer state: advise only what it accepts.
  const smaller =
    optimizerState && !resuming ? `, or keep the model only with --no-optimizer-state (${formatBytes(needed / 3)})` : '';
  const elsewhere = resuming
    ? 'free some space, or copy the run folder to a larger disk and --resume the copy'
    : 'free some space or choose another --out';
  throw new UsageError(
    `${flag}${out}: ${formatBytes(free)} free there, but the run's checkpoints need ${formatBytes(needed)} (${what}); ${elsewhere}${smaller}`,
  );
}

/** Whether process `pid` exists (one of another user's answers EPERM: it exists too). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Holds `<out>/.mini-gpt.lock` (this process's pid) while a run writes there, so a second
 * `train` on the same folder is refused instead of saving over the first one's checkpoint.
 * A lock whose process is gone (killed) is taken over. Returns the release (also run at exit).
 */
function lockRun(out: string, flag: string): () => void {
  const file = join(out, '.mini-gpt.lock');
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new UsageError(`${flag}${out}: cannot write in this folder (${(e as NodeJS.ErrnoException).code})`);
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new UsageError(`${flag}${out}: another mini-gpt train (pid ${pid}) is writing in this folder`);
      rmSync(file, { force: true });
    }
  }
  // Only while the lock is still this process's: one taken over (ours looked dead) is another run's.
  const release = () => {
    let holder = '';
    try {
      holder = readFileSync(file, 'utf8');
    } catch {}
    if (holder === String(process.pid)) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return () => {
    process.off('exit', release);
    release();
  };
}

/** Removes `dir` when no file was written under it (folders only): a run that never started leaves nothing. */
function removeIfEmpty(dir: string): void {
  const empty = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).every((e) => e.isDirectory() && empty(join(d, e.name)));
  try {
    if (empty(dir)) rmSync(dir, { recursive: true });
  } catch {
    /* a folder we cannot read or remove is left as it is */
  }
}

/** A usage error when `out` already holds a run (finished or not): a new run would overwrite it. */
async function refuseExistingRun(out: string, typed: boolean): Promise<void> {
  const summary = await G.readCheckpointSummary(join(out, 'checkpoint')).catch(() => null);
  if (!summary) return;
  const epochs = (summary.extra as RunSettings | null)?.flags?.epochs;
  const finished =
    epochs !== undefined && summary.state.epoch >= epochs
      ? ` (with --epochs above ${epochs}: it finished its ${epochs} epoch${epochs === 1 ? '' : 's'})`
      : '';
  const file = join(relative(out, summary.folder), 'trainer_state.json');
  throw new UsageError(
    `${typed ? '--out' : 'the run folder'} ${out} already holds a training run (${file}): continue it with --resume ${shellQuote(out)}${finished}, or choose another folder with --out`,
  );
}

/**
 * The saved run's settings with the flags typed now: mutable ones replace the saved values
 * (returned as `changes`), fixed ones must equal them.
 */
function mergeResumeFlags(
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
function scheduleNote(f: TrainFlags, stepsBefore: number, stepsNow: number): string {
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

export async function train(flags: TrainFlags, typed: ReadonlySet<string> = new Set()): Promise<number> {
  const commandStarted = performance.now();
  // An empty context once skipped the samples silently; a sample needs a token to start from.
  if (flags.startContext === '' && flags.sampleTokens !== 0)
    throw new UsageError('--start-context is empty: give some text to continue (--sample-tokens 0: no samples)');
  let settings: RunSettings | undefined;
  let out: string;
  let config: G.GPTConfig | undefined;
  let source: DataSource | undefined;
  if (flags.resume) {
    out = resolve(flags.resume);
    if (!existsSync(out) || !statSync(out).isDirectory())
      throw new UsageError(`--resume ${flags.resume}: no such folder`);
    const summary = await G.readCheckpointSummary(join(out, 'checkpoint'));
    if (!summary)
      throw new UsageError(`--resume ${flags.resume}: not a training run (no checkpoint/trainer_state.json in it)`);
    if (!summary.optimizerState) {
      throw new UsageError(
        `--resume ${flags.resume}: the run was saved without its optimizer state (--no-optimizer-state), so it cannot be resumed; start a new run, or use its model with generate or eval`,
      );
    }
    if (typed.has('out') && resolve(flags.out!) !== out)
      throw new UsageError(`--out cannot change when resuming: the run lives in ${out}`);
  } else {
    out = resolve(flags.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
    // Everything a new run can check is checked before a folder is made, a file downloaded or
    // a device probed: the flags first, then the folder, then the data.
    config = G.resolveConfig(flags.preset as G.PresetName, {
      contextLength: flags.contextLength,
      dropRate: flags.dropout,
      qkvBias: flags.qkvBias,
      tiedHead: flags.tiedHead,
    });
    if (flags.init !== 'pytorch' && flags.init !== 'gpt2')
      throw new UsageError(`--init must be pytorch or gpt2, got "${flags.init}"`);
    if (flags.rng !== undefined && flags.rng !== 'torch' && flags.rng !== 'fast')
      throw new UsageError(`--rng must be torch or fast, got "${flags.rng}"`);
    if (flags.rng === 'torch' && flags.init !== 'pytorch')
      throw new UsageError("--rng torch draws the book's initialisation: it needs --init pytorch");
    await refuseExistingRun(out, typed.has('out'));
    settings = { flags, dataPath: flags.data ? resolve(flags.data) : await defaultData() };
    source = await readData(settings.dataPath);
    settings.text = sourceIdentity(source);
  }
  const created = await prepareOut(out, typed.has('out'), Boolean(flags.resume));
  const unlock = lockRun(out, flags.resume ? '--resume ' : typed.has('out') ? '--out ' : 'the run folder ');
  const giveBack = () => {
    unlock();
    if (created) removeIfEmpty(created);
  };
  // Ctrl-C while the device opens and the model is made (seconds) would otherwise kill the
  // process in silence and leave the new folder behind: say so and take the folder back.
  const beforeTraining = (signal: StopSignal) => {
    stopProgress();
    giveBack();
    process.stderr.write(`\n${signalLabel(signal)} before the first step: stopped, nothing saved\n`);
    process.exit(signalExitCode(signal));
  };
  const offBeforeTraining = onStopSignals(beforeTraining);
  try {
    return await run(flags, typed, {
      out,
      settings,
      config,
      source,
      commandStarted,
      trainingStarts: offBeforeTraining,
    });
  } catch (e) {
    giveBack();
    throw e;
  } finally {
    offBeforeTraining();
    unlock();
  }
}

/** What train() checked and read before the run folder was made. */
interface Prepared {
  out: string;
  /** A new run's settings, config and text; undefined when resuming (read from the checkpoint). */
  settings: RunSettings | undefined;
  config: G.GPTConfig | undefined;
  source: DataSource | undefined;
  commandStarted: number;
  /** Called when the run's own Ctrl-C handler takes over (it saves a checkpoint). */
  trainingStarts: () => void;
}

async function run(flags: TrainFlags, typed: ReadonlySet<string>, prepared: Prepared): Promise<number> {
  const { out, commandStarted } = prepared;
  let { settings, config, source } = prepared;
  let changes: string[] = [];
  let savedEpochs = 0;
  // A second Ctrl-C or a crash during a save leaves "checkpoint.saving-…": not a checkpoint.
  G.removeUnfinishedSaves(join(out, 'checkpoint'));
  removeStaleReportTemps(out); // a kill -9 while writing the reports

  const device = await openDevice(flags.device, Boolean(flags.verbose));
  let loaded: G.LoadedCheckpoint | null = null;
  if (flags.resume) {
    loaded = await G.loadCheckpoint(join(out, 'checkpoint'), device);
    const saved = loaded.extra as RunSettings;
    if (!saved?.flags) throw new UsageError(`${flags.resume}: the checkpoint does not record its run settings`);
    savedEpochs = saved.flags.epochs;
    ({ settings, changes } = mergeResumeFlags(
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
    ));
    if (settings.flags.maxSteps === undefined && loaded.state.epoch >= settings.flags.epochs) {
      throw new UsageError(
        `--resume ${flags.resume}: the run already trained ${loaded.state.epoch} epoch${loaded.state.epoch === 1 ? '' : 's'}${settings.flags.epochs < loaded.state.epoch ? ` (more than --epochs ${settings.flags.epochs})` : ''}; give --epochs above ${loaded.state.epoch} to train further`,
      );
    }
    config = loaded.model.config;
    // The same content may have moved: --data names it; its identity is checked, not its path.
    const path = typed.has('data') ? resolve(flags.data!) : saved.dataPath;
    source = await readData(path);
    const identity = sourceIdentity(source);
    checkResumeText(saved.text, saved.dataPath, path, identity);
    settings = { ...settings, dataPath: path, text: identity };
  }
  if (!config || !settings || !source) throw new Error('unreachable: a run has a config, settings and data here');
  // The random stream, resolved and saved with the run: torch (the book's numbers) on the CPU,
  // fast on WebGPU, whose kernels draw their masks in place (docs/reproducing-the-book.md); a
  // checkpoint from before --rng existed used the fast stream.
  const rng =
    settings.flags.rng ?? (loaded || device.kind === 'webgpu' || settings.flags.init !== 'pytorch' ? 'fast' : 'torch');
  if (rng === 'torch' && device.kind === 'webgpu')
    throw new UsageError('--rng torch runs on the CPU device only (--device cpu); WebGPU runs use --rng fast');
  settings = { ...settings, flags: { ...settings.flags, rng } };
  const f = settings.flags;
  checkRates(f);
  // Weights, gradients and AdamW's moments in float32, before any tensor: the CPU heap's size hint (memory64 past 4 GiB).
  device.backend.reserve?.(16 * G.parameterCount(config));
  admitTraining(flags.resume ?? `--preset ${f.preset}`, config, f.batchSize, device);
  const loaderOptions = {
    batchSize: f.batchSize,
    maxLength: config.contextLength,
    stride: f.stride ?? config.contextLength,
    device,
  };
  const datasets = await openDatasets(
    source,
    out,
    f.trainRatio,
    loaderOptions.maxLength,
    loaderOptions.stride,
    Boolean(flags.json),
  );
  process.once('exit', datasets.close);
  const trainLoader = new G.DataLoader(datasets.train, {
    ...loaderOptions,
    shuffle: true,
    dropLast: true,
    seed: f.seed,
  });
  const valLoader = new G.DataLoader(datasets.validation, { ...loaderOptions, shuffle: false, dropLast: false });
  if (trainLoader.length === 0)
    throw new UsageError(
      `the training split of ${settings.dataPath} is too short for one batch of ${f.batchSize} x ${config.contextLength} tokens`,
    );
  const parameters = G.parameterCount(config);
  const modelBytes = parameters * 4;
  refuseFullDisk(
    out,
    flags.resume ? '--resume ' : typed.has('out') ? '--out ' : 'the run folder ',
    modelBytes,
    f.optimizerState,
    Math.max(1, f.epochs - (loaded?.state.epoch ?? 0)),
    Boolean(loaded),
  );
  const model =
    loaded?.model ??
    G.GPTModel.create(config, { device, seed: f.seed, init: f.init as G.InitScheme, rng: rng as G.RandomStream });
  const optimizer = loaded?.optimizer ?? new G.AdamW(model.params, { lr: f.lr, weightDecay: f.weightDecay });
  let state = loaded?.state ?? G.initialTrainState();
  const { perEpoch, totalSteps } = planSteps(f, trainLoader.length, typed, settings.dataPath, config.contextLength);
  if (loaded && f.maxSteps !== undefined && state.steps >= totalSteps)
    throw new UsageError(
      `--resume ${flags.resume}: the run already finished its ${state.steps} steps; give --max-steps above ${state.steps} to train further`,
    );
  const stepTokens = f.batchSize * (f.gradAccum ?? 1) * config.contextLength;

  const quiet = Boolean(flags.json);
  const log = (line: string) => {
    if (!quiet) say(line);
  };
  log(`${colors.bold('device')}: ${deviceDescription(device)}`);
  log(
    rng === 'torch'
      ? `${colors.bold('random numbers')}: torch (PyTorch's CPU stream after torch.manual_seed(${f.seed}): the book's numbers)`
      : `${colors.bold('random numbers')}: fast (mini-gpt's counter-based stream): this run will not match the book's printed losses${device.kind === 'webgpu' ? ' (the torch stream needs --device cpu)' : ''}`,
  );
  const size = GPT2_SIZES[f.preset as keyof typeof GPT2_SIZES];
  log(
    `${colors.bold('model')}: ${f.preset}${size ? ` (the GPT-2 ${size} layout)` : ''}, ${parameters.toLocaleString('en-US')} parameters, context ${config.contextLength}, ${config.tiedHead ? 'tied' : 'untied'} head, qkv bias ${config.qkvBias ? 'on' : 'off'}`,
  );
  const validationNote =
    valLoader.length === 0
      ? 'no validation: the split is too short for one window, so the validation loss is NaN'
      : `${valLoader.length} validation`;
  log(
    `${colors.bold('data')}: ${settings.dataPath} (${datasets.note ? `${datasets.note}, ` : ''}${trainLoader.length} training batches per epoch${(f.gradAccum ?? 1) > 1 ? `, ${f.gradAccum} per step: ${perEpoch} steps` : ''}, ${validationNote})`,
  );
  const checkpointDir = join(out, 'checkpoint');
  log(
    `${colors.bold('checkpoint')}: ${checkpointDir}, ${formatBytes(modelBytes)} model${f.optimizerState ? ` + ${formatBytes(2 * modelBytes)} optimizer state per save (--no-optimizer-state keeps the model only)` : ' only (--no-optimizer-state: the run cannot be resumed)'}`,
  );
  if (loaded) {
    log(`${colors.bold('resuming')}: epoch ${state.epoch + 1}, step ${state.steps} of ${totalSteps}`);
    for (const change of changes) log(`${colors.bold('changed')}: ${change}`);
    if (f.epochs !== savedEpochs)
      log(`${colors.bold('schedule')}: ${scheduleNote(f, savedEpochs * perEpoch, totalSteps)}`);
  }
  if (f.minLr !== undefined && !f.cosine) notice('note: --min-lr has no effect without --cosine');
  if (typed.has('initialLr') && f.warmupSteps === 0) notice('note: --initial-lr has no effect without --warmup-steps');

  let stopRequested: StopSignal | null = null;
  let saving: Promise<void> | null = null;
  const abortSave = new AbortController();
  const onSigint = (signal: StopSignal) => {
    if (stopRequested) {
      stopProgress();
      const second =
        signal === stopRequested
          ? `second ${signalLabel(signal)}`
          : `${signalLabel(signal)} after ${signalLabel(stopRequested)}`;
      process.stderr.write(`\n${second}: exiting now; the last whole checkpoint is kept\n`);
      // A save in flight stops at its next write and removes its staging folder: wait for that
      // (milliseconds), so that no file is written after the clean-up below.
      abortSave.abort(new Error(second));
      const exit = () => {
        G.removeUnfinishedSaves(checkpointDir);
        process.exit(signalExitCode(signal));
      };
      if (saving) saving.then(exit, exit);
      else exit();
      return;
    }
    stopRequested = signal;
    notice(
      `${signalLabel(signal)}: finishing this step, then saving a checkpoint (${signalLabel(signal)} again to exit at once)`,
    );
  };
  // Set-up (the device, the model's random initialisation) runs without turning the event loop:
  // a Ctrl-C pressed meanwhile is read in the loop's next poll for I/O and must reach the
  // set-up's handler (stop, nothing saved) rather than this one (finish a step, save). Two
  // setImmediate turns: the first may run before that poll, the second runs after it.
  for (let turn = 0; turn < 2; turn++)
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
  const offSigint = onStopSignals(onSigint);
  prepared.trainingStarts();

  const save = (s: G.TrainState): Promise<void> => {
    saving = (async () => {
      await G.saveCheckpoint(checkpointDir, model, optimizer, s, settings, {
        optimizerState: f.optimizerState,
        signal: abortSave.signal,
      });
      await writeReports(out, s.history, s.steps / perEpoch);
    })();
    return saving.finally(() => {
      saving = null;
    });
  };
  const bar = quiet ? null : startProgress(totalSteps, state.steps, 'step', `epoch ${state.epoch + 1}/${f.epochs}`);
  const started = performance.now();
  let tokensThisSession = 0;
  let stopped = false;
  let times: G.TrainTimes | null = null;
  const finalSave = { count: 0, seconds: 0 };
  try {
    const result = await G.trainModel(
      model,
      optimizer,
      trainLoader,
      valLoader,
      {
        epochs: f.epochs,
        evalFreq: f.evalFreq,
        evalIter: f.evalIter,
        startContext: f.startContext,
        sampleTokens: f.sampleTokens,
        schedule: {
          lr: f.lr,
          warmupSteps: f.warmupSteps,
          initialLr: f.initialLr,
          cosine: f.cosine,
          minLr: f.minLr ?? 0.1 * f.lr,
          totalSteps,
        },
        gradClip: f.gradClip,
        shouldStop: () => stopRequested !== null,
        maxSteps: f.maxSteps,
        saveEvery: f.saveEvery,
        gradAccum: f.gradAccum,
      },
      {
        onStep: (s) => {
          tokensThisSession += stepTokens;
          const rate = tokensThisSession / ((performance.now() - started) / 1000);
          bar?.update(s.step + 1, `epoch ${s.epoch}/${f.epochs}`, [
            `loss ${s.loss.toFixed(3)}`,
            `${rate.toFixed(0)} tok/s`,
          ]);
        },
        onEval: (r) => log(evalLine(r)),
        onSample: (s) => log(`${colors.dim(`sample after epoch ${s.epoch}:`)} ${s.text.replace(/\n/g, ' ')}`),
        onEpochEnd: async (s) => {
          state = s;
          await save(s);
        },
        onSaveDue: async (s) => {
          state = s;
          await save(s);
        },
        onEnd: async (s) => {
          state = s;
          await save(s);
        },
      },
      state,
    );
    state = result.state;
    stopped = result.stopped;
    times = result.times;
    if (stopped) {
      // a finished run was saved at its last epoch's end
      notice(`saving a checkpoint at step ${state.steps}`);
      const t = performance.now();
      await save(state);
      Object.assign(finalSave, { count: 1, seconds: (performance.now() - t) / 1000 });
    }
  } catch (e) {
    if (abortSave.signal.aborted) await new Promise(() => {}); // the second Ctrl-C's handler exits
    if (e instanceof G.NonFiniteLossError) {
      const kept = existsSync(join(checkpointDir, 'model.safetensors'))
        ? `the last good checkpoint is in ${checkpointDir}`
        : 'no checkpoint was saved before it';
      throw new Error(`${e.message}. ${kept}`);
    }
    throw e;
  } finally {
    stopProgress();
    offSigint();
  }
  const seconds = (performance.now() - started) / 1000;
  const profile =
    flags.profile && times
      ? runProfile(times, (performance.now() - commandStarted) / 1000, stepTokens, finalSave)
      : null;
  if (profile && !flags.json) for (const line of formatProfile(profile)) say(line);
  const last = state.history[state.history.length - 1];
  if (stopped) {
    const resume = f.optimizerState
      ? `resume with:  npx mini-gpt train --resume ${shellQuote(out)}`
      : 'saved without the optimizer state (--no-optimizer-state): use it with generate or eval; it cannot be resumed';
    process.stderr.write(`stopped at step ${state.steps}; checkpoint saved in ${checkpointDir}\n${resume}\n`);
    return signalExitCode(stopRequested ?? 'SIGINT');
  }
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ out, checkpoint: checkpointDir, steps: state.steps, tokensSeen: state.tokensSeen, trainLoss: last?.trainLoss ?? null, valLoss: last?.valLoss ?? null, seconds, ...(profile ? { profile } : {}) })}\n`,
    );
  } else {
    const size = async (name: string) => (await stat(join(checkpointDir, name)).catch(() => null))?.size ?? 0;
    const [modelSize, optimizerSize] = [await size('model.safetensors'), await size('optimizer.safetensors')];
    say(
      `done: ${state.steps} steps, ${state.tokensSeen.toLocaleString('en-US')} tokens seen in ${seconds.toFixed(0)} s`,
    );
    say(
      `checkpoint: ${checkpointDir} (${formatBytes(modelSize)} model${optimizerSize ? ` + ${formatBytes(optimizerSize)} optimizer state` : ''})`,
    );
    say(`losses: ${join(out, 'losses.csv')}`);
    say(`plot: ${join(out, 'loss.png')} (and loss.svg)`);
  }
  return 0;
}
