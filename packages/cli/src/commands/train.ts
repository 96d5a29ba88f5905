/**
 * mini-gpt train: the book's chapter-5 run by default (gpt2-small layout, context 256, untied
 * head, no qkv bias, dropout 0.1, 10 epochs, batch 2, AdamW lr 0.0004 / weight decay 0.1,
 * evaluation every 5 steps on 5 batches, 90/10 split, seed 123, a sample after each epoch).
 * Writes to --out: checkpoint/ (config.json, model.safetensors, optimizer.safetensors,
 * trainer_state.json), losses.csv, loss.svg and loss.png. Ctrl-C saves and prints how to resume.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as G from '@mini/gpt';
import { getDevice } from '@mini/tensor/node';
import { defaultData } from '../data.js';
import { formatProfile, runProfile } from '../profile.js';
import { UsageError, colors, progressBar, say } from '../ui.js';

export interface TrainFlags {
  preset: string;
  data?: string;
  out?: string;
  resume?: string;
  device: 'auto' | 'cpu' | 'webgpu';
  contextLength: number;
  stride?: number;
  dropout: number;
  qkvBias: boolean;
  tiedHead: boolean;
  init: string;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  evalFreq: number;
  evalIter: number;
  trainRatio: number;
  seed: number;
  startContext: string;
  sampleTokens: number;
  warmupSteps: number;
  initialLr: number;
  cosine: boolean;
  minLr?: number;
  gradClip?: number;
  json?: boolean;
  /** Print where the time went (steps, evaluations, samples, checkpoints) at the end. */
  profile?: boolean;
}

/** What a checkpoint keeps so --resume continues the same run. */
interface RunSettings {
  flags: TrainFlags;
  dataPath: string;
}

const evalLine = (r: G.LossRecord) => `Ep ${r.epoch} (Step ${String(r.step).padStart(6, '0')}): Train loss ${r.trainLoss.toFixed(3)}, Val loss ${r.valLoss.toFixed(3)}`;

async function writeReports(out: string, history: G.LossRecord[], epochs: number): Promise<void> {
  await writeFile(join(out, 'losses.csv'), G.lossesCsv(history));
  const svg = G.lossPlotSvg(history, { epochs });
  await writeFile(join(out, 'loss.svg'), svg);
  await writeFile(join(out, 'loss.png'), new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 } }).render().asPng());
}

export async function train(flags: TrainFlags): Promise<number> {
  const commandStarted = performance.now();
  let settings: RunSettings;
  let out: string;
  let loaded: G.LoadedCheckpoint | null = null;
  const device = await getDevice(flags.device);
  if (flags.resume) {
    out = resolve(flags.resume);
    loaded = await G.loadCheckpoint(join(out, 'checkpoint'), device);
    settings = loaded.extra as RunSettings;
    if (!settings?.flags) throw new UsageError(`${flags.resume}: the checkpoint does not record its run settings`);
  } else {
    out = resolve(flags.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
    settings = { flags, dataPath: flags.data ? resolve(flags.data) : await defaultData() };
  }
  const f = settings.flags;
  const config = loaded?.model.config ?? G.resolveConfig(f.preset as G.PresetName, { contextLength: f.contextLength, dropRate: f.dropout, qkvBias: f.qkvBias, tiedHead: f.tiedHead });
  if (f.init !== 'pytorch' && f.init !== 'gpt2') throw new UsageError(`--init must be pytorch or gpt2, got "${f.init}"`);
  const text = await readFile(settings.dataPath, 'utf8').catch((e: Error) => { throw new UsageError(`--data ${settings.dataPath}: ${e.message}`); });
  const { train: trainText, validation } = G.splitText(text, f.trainRatio);
  const loaderOptions = { batchSize: f.batchSize, maxLength: config.contextLength, stride: f.stride ?? config.contextLength, device };
  const trainLoader = G.createDataLoader(trainText, { ...loaderOptions, shuffle: true, dropLast: true, seed: f.seed });
  const valLoader = G.createDataLoader(validation, { ...loaderOptions, shuffle: false, dropLast: false });
  if (trainLoader.length === 0) throw new UsageError(`the training split of ${settings.dataPath} is too short for one batch of ${f.batchSize} x ${config.contextLength} tokens`);
  const model = loaded?.model ?? G.GPTModel.create(config, { device, seed: f.seed, init: f.init as G.InitScheme });
  const optimizer = loaded?.optimizer ?? new G.AdamW(model.params, { lr: f.lr, weightDecay: f.weightDecay });
  let state = loaded?.state ?? G.initialTrainState();
  await mkdir(out, { recursive: true });

  const quiet = Boolean(flags.json);
  const log = (line: string) => { if (!quiet) say(line); };
  log(`${colors.bold('device')}: ${device.info.description}`);
  log(`${colors.bold('model')}: ${f.preset}, ${G.parameterCount(config).toLocaleString('en-US')} parameters, context ${config.contextLength}, ${config.tiedHead ? 'tied' : 'untied'} head, qkv bias ${config.qkvBias ? 'on' : 'off'}`);
  log(`${colors.bold('data')}: ${settings.dataPath} (${trainLoader.length} training batches per epoch, ${valLoader.length} validation)`);
  if (loaded) log(`${colors.bold('resuming')}: epoch ${state.epoch + 1}, step ${state.steps}`);

  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) {
      process.stderr.write('\nsecond Ctrl-C: exiting now (the last checkpoint is intact)\n');
      process.exit(130);
    }
    stopRequested = true;
    process.stderr.write('\nCtrl-C: finishing this step and saving a checkpoint (Ctrl-C again to exit at once)\n');
  };
  process.on('SIGINT', onSigint);

  const checkpointDir = join(out, 'checkpoint');
  const save = async (s: G.TrainState) => {
    await G.saveCheckpoint(checkpointDir, model, optimizer, s, settings);
    await writeReports(out, s.history, f.epochs);
  };
  const totalSteps = f.epochs * trainLoader.length;
  const bar = quiet ? null : progressBar(totalSteps, 'epoch {epoch}/{epochs} |{bar}| step {value}/{total} | loss {loss} | {rate} tok/s | ETA {eta_formatted}');
  let tokensThisSession = 0;
  const started = performance.now();
  let stopped = false;
  let times: G.TrainTimes | null = null;
  try {
    const result = await G.trainModel(model, optimizer, trainLoader, valLoader, {
      epochs: f.epochs,
      evalFreq: f.evalFreq,
      evalIter: f.evalIter,
      startContext: f.startContext,
      sampleTokens: f.sampleTokens,
      schedule: { lr: f.lr, warmupSteps: f.warmupSteps, initialLr: f.initialLr, cosine: f.cosine, minLr: f.minLr ?? 0.1 * f.lr, totalSteps },
      gradClip: f.gradClip,
      shouldStop: () => stopRequested,
    }, {
      onStep: (s) => {
        tokensThisSession += f.batchSize * config.contextLength;
        const rate = tokensThisSession / ((performance.now() - started) / 1000);
        bar?.update(s.step + 1, { epoch: s.epoch, epochs: f.epochs, loss: s.loss.toFixed(3), rate: rate.toFixed(0) });
      },
      onEval: (r) => log(evalLine(r)),
      onSample: (s) => log(`${colors.dim(`sample after epoch ${s.epoch}:`)} ${s.text.replace(/\n/g, ' ')}`),
      onEpochEnd: async (s) => { state = s; await save(s); },
    }, state);
    state = result.state;
    stopped = result.stopped;
    times = result.times;
  } catch (e) {
    bar?.stop();
    if (e instanceof G.NonFiniteLossError) throw new Error(`${e.message}. The last good checkpoint is in ${checkpointDir}`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  bar?.stop();
  const finalSave = { count: 0, seconds: 0 };
  if (stopped) { // a finished run was saved at its last epoch's end
    const t = performance.now();
    await save(state);
    Object.assign(finalSave, { count: 1, seconds: (performance.now() - t) / 1000 });
  }
  const seconds = (performance.now() - started) / 1000;
  const profile = flags.profile && times ? runProfile(times, (performance.now() - commandStarted) / 1000, f.batchSize * config.contextLength, finalSave) : null;
  if (profile && !flags.json) for (const line of formatProfile(profile)) say(line);
  const last = state.history[state.history.length - 1];
  if (stopped) {
    process.stderr.write(`stopped at step ${state.steps}; checkpoint saved in ${checkpointDir}\nresume with:  npx mini-gpt train --resume ${out}\n`);
    return 130;
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ out, checkpoint: checkpointDir, steps: state.steps, tokensSeen: state.tokensSeen, trainLoss: last?.trainLoss ?? null, valLoss: last?.valLoss ?? null, seconds, ...(profile ? { profile } : {}) })}\n`);
  } else {
    say(`done: ${state.steps} steps, ${state.tokensSeen.toLocaleString('en-US')} tokens seen in ${seconds.toFixed(0)} s`);
    say(`checkpoint: ${checkpointDir}`);
    say(`losses: ${join(out, 'losses.csv')}`);
    say(`plot: ${join(out, 'loss.png')} (and loss.svg)`);
  }
  return 0;
}

