/** mini-gpt eval: loss and perplexity of a model on a text (the book's calc_loss_loader). */
import * as G from '@mini/gpt/node';
import { admitBatch } from '../admission.js';
import { openDevice } from '../device.js';
import { loadForInference, resolveModel } from '../models.js';
import { readTextFile } from '../read-text.js';
import { exitOnStopSignals } from '../signals.js';
import { UsageError, say } from '../ui.js';
import type { EvalOptions } from '../main.js';

/** evaluate's flags (with the global --verbose), typed by their definitions in main.ts. */
export type EvalFlags = EvalOptions;

export async function evaluate(flags: EvalFlags): Promise<number> {
  // Nothing to save: Ctrl-C, SIGTERM or SIGHUP end it at once with one line (no stack trace).
  exitOnStopSignals('eval');
  // The local file first: a missing --data is said before a model is looked for or downloaded.
  const text = await readTextFile(flags.data, '--data');
  const dir = await resolveModel(flags.model, flags.revision);
  const device = await openDevice(flags.device, Boolean(flags.verbose));
  // The flags' limits before the model is loaded: a batch that cannot be allocated fails at once.
  const config = await G.loadConfig(dir);
  const length = flags.contextLength ?? config.contextLength;
  if (length > config.contextLength)
    throw new UsageError(`--context-length ${length} exceeds the model's ${config.contextLength}`);
  admitBatch('--batch-size', flags.batchSize, length, config.vocabSize, device);
  const model = (await loadForInference(dir, device, flags.dtype)).eval();
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
