/**
 * What train prints and writes about a run: the set-up lines (device, random numbers, model,
 * data, checkpoint, resume), the evaluation lines, losses.csv with the loss plot, and the
 * closing summary (a stop, the --json object, or the done lines).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Device } from '@mini/tensor';
import { Resvg } from '@resvg/resvg-js';
import * as G from '@mini/gpt/node';
import { deviceDescription } from '../device.js';
import { formatProfile, type runProfile } from '../profile.js';
import { colors, formatBytes, notice, say, shellQuote } from '../ui.js';
import { type TrainFlags, scheduleNote } from './settings.js';

/** The names OpenAI and the book give the GPT-2 sizes (the book's chapter-5 model is "GPT-2 124M" with an untied head). */
const GPT2_SIZES = { 'gpt2-small': '124M', 'gpt2-medium': '355M', 'gpt2-large': '774M', 'gpt2-xl': '1558M' } as const;

export const evalLine = (r: G.LossRecord) =>
  `Ep ${r.epoch} (Step ${String(r.step).padStart(6, '0')}): Train loss ${r.trainLoss.toFixed(3)}, Val loss ${r.valLoss.toFixed(3)}`;

/** losses.csv, loss.svg and loss.png; `epochs`: the epochs the history covers. */
export async function writeReports(out: string, history: G.LossRecord[], epochs: number): Promise<void> {
  await G.writeTextAtomic(join(out, 'losses.csv'), G.lossesCsv(history));
  const svg = G.lossPlotSvg(history, { epochs });
  await G.writeTextAtomic(join(out, 'loss.svg'), svg);
  await G.writeFileAtomic(join(out, 'loss.png'), (sink) =>
    sink.write(new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 } }).render().asPng()),
  );
}

/** What the set-up lines describe. */
export interface SetupFacts {
  device: Device;
  rng: string;
  /** The run's settings (merged with the saved ones when resuming). */
  f: TrainFlags;
  config: G.GPTConfig;
  parameters: number;
  dataPath: string;
  /** Where the tokens come from ('' for a text read whole). */
  dataNote: string;
  trainBatches: number;
  valBatches: number;
  perEpoch: number;
  checkpointDir: string;
  modelBytes: number;
  /** Flags typed on the command line (attribute names). */
  typed: ReadonlySet<string>;
  /** When resuming: where the run continues, what changed, the epochs it was started with. */
  resumed: { state: G.TrainState; totalSteps: number; changes: string[]; savedEpochs: number } | null;
}

/** The set-up lines (through `log`: nothing with --json) and the notes on flags without effect. */
export function reportSetup(log: (line: string) => void, r: SetupFacts): void {
  const { f, config } = r;
  log(`${colors.bold('device')}: ${deviceDescription(r.device)}`);
  log(
    r.rng === 'torch'
      ? `${colors.bold('random numbers')}: torch (PyTorch's CPU stream after torch.manual_seed(${f.seed}): the book's numbers)`
      : `${colors.bold('random numbers')}: fast (mini-gpt's counter-based stream): this run will not match the book's printed losses${r.device.kind === 'webgpu' ? ' (the torch stream needs --device cpu)' : ''}`,
  );
  const size = GPT2_SIZES[f.preset as keyof typeof GPT2_SIZES];
  log(
    `${colors.bold('model')}: ${f.preset}${size ? ` (the GPT-2 ${size} layout)` : ''}, ${r.parameters.toLocaleString('en-US')} parameters, context ${config.contextLength}, ${config.tiedHead ? 'tied' : 'untied'} head, qkv bias ${config.qkvBias ? 'on' : 'off'}`,
  );
  const validationNote =
    r.valBatches === 0
      ? 'no validation: the split is too short for one window, so the validation loss is NaN'
      : `${r.valBatches} validation`;
  log(
    `${colors.bold('data')}: ${r.dataPath} (${r.dataNote ? `${r.dataNote}, ` : ''}${r.trainBatches} training batches per epoch${(f.gradAccum ?? 1) > 1 ? `, ${f.gradAccum} per step: ${r.perEpoch} steps` : ''}, ${validationNote})`,
  );
  // A resumed run cannot drop its optimizer state (--resume refuses --no-optimizer-state): no hint then.
  log(
    `${colors.bold('checkpoint')}: ${r.checkpointDir}, ${formatBytes(r.modelBytes)} model${f.optimizerState ? ` + ${formatBytes(2 * r.modelBytes)} optimizer state per save${r.resumed ? '' : ' (--no-optimizer-state keeps the model only)'}` : ' only (--no-optimizer-state: the run cannot be resumed)'}`,
  );
  if (r.resumed) {
    const { state, totalSteps, changes, savedEpochs } = r.resumed;
    log(`${colors.bold('resuming')}: epoch ${state.epoch + 1}, step ${state.steps} of ${totalSteps}`);
    for (const change of changes) log(`${colors.bold('changed')}: ${change}`);
    if (f.epochs !== savedEpochs)
      log(`${colors.bold('schedule')}: ${scheduleNote(f, savedEpochs * r.perEpoch, totalSteps)}`);
  }
  if (f.minLr !== undefined && !f.cosine) notice('note: --min-lr has no effect without --cosine');
  if (r.typed.has('initialLr') && f.warmupSteps === 0)
    notice('note: --initial-lr has no effect without --warmup-steps');
}

/** How the run ended, for the closing lines. */
export interface RunEnd {
  out: string;
  checkpointDir: string;
  state: G.TrainState;
  /** Stopped by a signal (saved; the resume line follows). */
  stopped: boolean;
  optimizerState: boolean;
  json: boolean;
  seconds: number;
  profile: ReturnType<typeof runProfile> | null;
}

/** The closing lines: the profile, then the stop's resume line, the --json object or the done lines. */
export async function reportEnd(r: RunEnd): Promise<void> {
  const { out, checkpointDir, state } = r;
  if (r.profile && !r.json) for (const line of formatProfile(r.profile)) say(line);
  const last = state.history[state.history.length - 1];
  if (r.stopped) {
    const resume = r.optimizerState
      ? `resume with:  npx mini-gpt train --resume ${shellQuote(out)}`
      : 'saved without the optimizer state (--no-optimizer-state): use it with generate or eval; it cannot be resumed';
    process.stderr.write(`stopped at step ${state.steps}; checkpoint saved in ${checkpointDir}\n${resume}\n`);
    return;
  }
  if (r.json) {
    process.stdout.write(
      `${JSON.stringify({ out, checkpoint: checkpointDir, steps: state.steps, tokensSeen: state.tokensSeen, trainLoss: last?.trainLoss ?? null, valLoss: last?.valLoss ?? null, seconds: r.seconds, ...(r.profile ? { profile: r.profile } : {}) })}\n`,
    );
  } else {
    const size = async (name: string) => (await stat(join(checkpointDir, name)).catch(() => null))?.size ?? 0;
    const [modelSize, optimizerSize] = [await size('model.safetensors'), await size('optimizer.safetensors')];
    say(
      `done: ${state.steps} steps, ${state.tokensSeen.toLocaleString('en-US')} tokens seen in ${r.seconds.toFixed(0)} s`,
    );
    say(
      `checkpoint: ${checkpointDir} (${formatBytes(modelSize)} model${optimizerSize ? ` + ${formatBytes(optimizerSize)} optimizer state` : ''})`,
    );
    say(`losses: ${join(out, 'losses.csv')}`);
    say(`plot: ${join(out, 'loss.png')} (and loss.svg)`);
  }
}
