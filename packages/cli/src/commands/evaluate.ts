/** mini-gpt eval: loss and perplexity of a model on a text (the book's calc_loss_loader). */
import type { DeviceChoice } from '@mini/tensor';
import * as G from '@mini/gpt/node';
import { openDevice } from '../device.js';
import { loadForInference, resolveModel } from '../models.js';
import { readTextFile } from '../read-text.js';
import { exitOnStopSignals } from '../signals.js';
import { UsageError, say } from '../ui.js';

export interface EvalFlags {
  model: string;
  revision?: string;
  data: string;
  contextLength?: number;
  batchSize: number;
  maxBatches?: number;
  device: DeviceChoice;
  verbose?: boolean;
  dtype: G.WeightDTypeChoice;
  json?: boolean;
}

export async function evaluate(flags: EvalFlags): Promise<number> {
  // Nothing to save: Ctrl-C, SIGTERM or SIGHUP end it at once with one line (no stack trace).
  exitOnStopSignals('eval');
  // The local file first: a missing --data is said before a model is looked for or downloaded.
  const text = await readTextFile(flags.data, '--data');
  const dir = await resolveModel(flags.model, flags.revision);
  const device = await openDevice(flags.device, Boolean(flags.verbose));
  const model = (await loadForInference(dir, device, flags.dtype)).eval();
  const length = flags.contextLength ?? model.config.contextLength;
  if (length > model.config.contextLength)
    throw new UsageError(`--context-length ${length} exceeds the model's ${model.config.contextLength}`);
  const loader = G.createDataLoader(text, { batchSize: flags.batchSize, maxLength: length, stride: length, device });
  if (loader.length === 0) throw new UsageError(`${flags.data} is too short for one window of ${length} tokens`);
  const result = await G.loaderLoss(model, loader, { maxBatches: flags.maxBatches });
  const summary = {
    loss: result.loss,
    perplexity: G.perplexity(result.loss),
    tokens: result.tokens,
    batches: result.batches,
  };
  if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    say(
      `loss ${summary.loss.toFixed(4)}, perplexity ${summary.perplexity.toFixed(2)} (${summary.batches} batch${summary.batches === 1 ? '' : 'es'}, ${summary.tokens} tokens)`,
    );
  model.dispose();
  return 0;
}
