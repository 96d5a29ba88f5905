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
import { type Stats, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as G from '@mini/gpt/node';
import { admitTraining, checkRates } from '../admission.js';
import { type DataSource, openDatasets, readData } from '../corpus.js';
import { defaultData } from '../data.js';
import { openDevice } from '../device.js';
import { runProfile } from '../profile.js';
import { removeStaleReportTemps } from '../stale-temps.js';
import { planSteps } from '../steps.js';
import { signalExitCode } from '../signals.js';
import { sourceIdentity } from '../text-identity.js';
import { UsageError, colors, notice, say, startProgress, stopProgress } from '../ui.js';
import {
  explainNoRoom,
  lockRun,
  prepareOut,
  refuseExistingRun,
  refuseFullDisk,
  removeIfEmpty,
} from '../train/run-folder.js';
import { evalLine, reportEnd, reportSetup, writeReports } from '../train/report.js';
import { type RunSettings, type TrainFlags, flagName, newRunConfig, resumeSettings } from '../train/settings.js';
import { RunStop, stopBeforeTraining } from '../train/stop.js';

export type { TrainFlags } from '../train/settings.js';

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
    let found: Stats | undefined;
    try {
      found = statSync(out, { throwIfNoEntry: false });
    } catch (e) {
      throw new UsageError(`--resume ${flags.resume}: ${G.fileProblem(e as NodeJS.ErrnoException)}`);
    }
    if (!found) throw new UsageError(`--resume ${flags.resume}: ${G.brokenLink(out) ?? 'no such folder'}`);
    if (!found.isDirectory()) throw new UsageError(`--resume ${flags.resume}: a file, not a run folder`);
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
    config = newRunConfig(flags);
    await refuseExistingRun(out, typed.has('out'));
    settings = { flags, dataPath: flags.data ? resolve(flags.data) : await defaultData() };
    source = await readData(settings.dataPath);
    settings.text = sourceIdentity(source);
  }
  let created: string | undefined;
  let unlock = (): void => {};
  const giveBack = () => {
    unlock();
    if (created) removeIfEmpty(created);
  };
  // The stop handler goes first: a Ctrl-C between making the folder and a later handler killed
  // the process by default and left the new folder behind (the folder is made before an await).
  const offBeforeTraining = stopBeforeTraining(giveBack);
  try {
    await prepareOut(out, typed.has('out'), Boolean(flags.resume), (made) => {
      created = made;
    });
    unlock = lockRun(out, flags.resume ? '--resume ' : typed.has('out') ? '--out ' : 'the run folder ');
  } catch (e) {
    offBeforeTraining();
    giveBack();
    throw e;
  }
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
    ({ settings, changes, savedEpochs, source } = await resumeSettings(loaded, flags, typed));
    config = loaded.model.config;
  }
  if (!config || !settings || !source) throw new Error('unreachable: a run has a config, settings and data here');
  // The random stream, resolved and saved with the run: torch (the book's numbers) on the CPU,
  // fast on WebGPU, whose kernels draw their masks in place (docs/reproducing-the-book.md); a
  // checkpoint from before --rng existed used the fast stream.
  const rng =
    settings.flags.rng ?? (loaded ? 'fast' : G.defaultRandomStream(device, settings.flags.init as G.InitScheme));
  if (rng === 'torch' && device.kind === 'webgpu')
    throw new UsageError('--rng torch runs on the CPU device only (--device cpu); WebGPU runs use --rng fast');
  settings = { ...settings, flags: { ...settings.flags, rng } };
  const f = settings.flags;
  checkRates(f);
  // Weights, gradients and AdamW's moments in float32, before any tensor: the CPU heap's size hint (memory64 past 4 GiB).
  device.backend.reserve?.(16 * G.parameterCount(config));
  // Name the typed flags that size the model beside the preset: they, not the preset, may be why it is big.
  const sizing = (['contextLength', 'mlpDim'] as const)
    .filter((k) => typed.has(k) && f[k] !== undefined)
    .map((k) => `${flagName(k)} ${f[k]}`);
  admitTraining(
    flags.resume ?? `--preset ${f.preset}${sizing.length > 0 ? ` with ${sizing.join(', ')}` : ''}`,
    config,
    f.batchSize,
    device,
  );
  const stride = f.stride ?? config.contextLength;
  const datasets = await openDatasets(source, out, f.trainRatio, config.contextLength, stride, Boolean(flags.json));
  process.once('exit', datasets.close);
  const parameters = G.parameterCount(config);
  const modelBytes = parameters * 4;
  const runSettings = settings;
  const training = G.prepareTrainingRun({
    config,
    data: datasets,
    batchSize: f.batchSize,
    seed: f.seed,
    device,
    lr: f.lr,
    weightDecay: f.weightDecay,
    init: f.init as G.InitScheme,
    rng: rng as G.RandomStream,
    saved: loaded,
    check: ({ trainLoader }) => {
      if (trainLoader.length === 0)
        throw new UsageError(
          `the training split of ${runSettings.dataPath} is too short for one batch of ${f.batchSize} x ${config.contextLength} tokens`,
        );
      refuseFullDisk(
        out,
        flags.resume ? '--resume ' : typed.has('out') ? '--out ' : 'the run folder ',
        modelBytes,
        f.optimizerState,
        Math.max(1, f.epochs - (loaded?.state.epoch ?? 0)),
        Boolean(loaded),
      );
    },
  });
  const { model, optimizer, trainLoader, valLoader } = training;
  let state = training.state;
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
  const checkpointDir = join(out, 'checkpoint');
  reportSetup(log, {
    device,
    rng,
    f,
    config,
    parameters,
    dataPath: settings.dataPath,
    dataNote: datasets.note,
    trainBatches: trainLoader.length,
    valBatches: valLoader.length,
    perEpoch,
    checkpointDir,
    modelBytes,
    typed,
    resumed: loaded ? { state, totalSteps, changes, savedEpochs } : null,
  });

  const stop = new RunStop(checkpointDir);
  const offSigint = await stop.listen();
  prepared.trainingStarts();

  // The step of the last whole checkpoint (a full disk's message says what is kept).
  let savedStep: number | null = loaded ? loaded.state.steps : null;
  const save = (s: G.TrainState): Promise<void> =>
    stop.track(
      (async () => {
        try {
          await G.saveCheckpoint(checkpointDir, model, optimizer, s, runSettings, {
            optimizerState: f.optimizerState,
            signal: stop.abortSave.signal,
          });
          savedStep = s.steps;
          await writeReports(out, s.history, s.steps / perEpoch);
        } catch (e) {
          throw explainNoRoom(e, out, checkpointDir, savedStep, f.optimizerState);
        }
      })(),
    );
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
        shouldStop: () => stop.requested !== null,
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
    if (stop.abortSave.signal.aborted) await new Promise(() => {}); // the second Ctrl-C's handler exits
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
  await reportEnd({
    out,
    checkpointDir,
    state,
    stopped,
    optimizerState: f.optimizerState,
    json: Boolean(flags.json),
    seconds,
    profile,
  });
  return stopped ? signalExitCode(stop.requested ?? 'SIGINT') : 0;
}
