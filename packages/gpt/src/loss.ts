/** Cross-entropy of a batch and of a loader (the book's calc_loss_batch / calc_loss_loader). */
import * as A from '@mini/autograd';
import type { Variable } from '@mini/autograd';
import * as T from '@mini/tensor';
import type { Batch, DataLoader } from './data.js';
import type { GPTModel } from './model.js';
import { nextTask } from './next-task.js';

/** Mean cross-entropy of the model's next-token predictions on one batch (a scalar Variable). */
export function batchLoss(model: GPTModel, batch: Batch): Variable {
  const logits = model.forward(batch.inputs); // (B, T, V)
  return A.crossEntropy(logits, batch.targets);
}

export interface LoaderLossOptions {
  /** Average over the first N batches only (the book's num_batches / eval_iter). */
  maxBatches?: number;
}

/**
 * Mean of the batch losses over the loader's first batches, in order, without gradients and
 * in whatever mode (train/eval) the model is in. NaN for an empty loader, as the book.
 * NOTE: the book iterates its PyTorch DataLoader, which reshuffles the training loader on
 * every pass; taking the first batches in order makes evaluations repeatable and resumable.
 */
export async function loaderLoss(model: GPTModel, loader: DataLoader, options: LoaderLossOptions = {}): Promise<{ loss: number; batches: number; tokens: number }> {
  const batches = Math.min(options.maxBatches ?? Infinity, loader.length);
  if (batches === 0) return { loss: NaN, batches: 0, tokens: 0 };
  let total = 0;
  let tokens = 0;
  for (let i = 0; i < batches; i++) {
    const loss = A.noGrad(() => T.tidy(() => {
      const batch = loader.batch(0, i, [...Array(loader.dataset.length).keys()]);
      tokens += batch.inputs.size;
      return batchLoss(model, batch).data;
    }));
    total += await loss.item();
    loss.dispose();
    await nextTask(); // let a Ctrl-C handler run between batches (see next-task.ts)
  }
  return { loss: total / batches, batches, tokens };
}

/** exp(loss): the perplexity of a mean cross-entropy. */
export function perplexity(loss: number): number {
  return Math.exp(loss);
}
