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
 * The loss of each of the first batches of each loader, in order, without gradients and in
 * whatever mode (train/eval) the model is in: one array per loader, of float32 losses. The
 * batches' losses gather on the device and come back in one read, so the device never waits
 * for the host between batches. Each batch's tensors are freed when its loss is written.
 * A loader's `order` (a pass's window order, as DataLoader.torchPass gives) picks its batches;
 * without one the windows are taken in order.
 * NOTE: the book iterates its PyTorch DataLoader, which reshuffles the training loader on
 * every pass; with the fast stream, taking the first batches in order makes evaluations
 * repeatable and resumable (the torch stream passes the book's orders instead).
 */
export async function batchLosses(
  model: GPTModel,
  loaders: readonly { loader: DataLoader; maxBatches?: number; order?: readonly number[] }[],
): Promise<{ losses: number[]; tokens: number }[]> {
  const counts = loaders.map(({ loader, maxBatches }) => Math.min(maxBatches ?? Infinity, loader.length));
  const total = counts.reduce((a, b) => a + b, 0);
  const tokens = counts.map(() => 0);
  if (total === 0) return counts.map(() => ({ losses: [], tokens: 0 }));
  const gathered = T.zeros([total], { device: model.device }); // (batches of every loader)
  try {
    let at = 0;
    for (const [l, { loader, order }] of loaders.entries()) {
      const inOrder = order ? [...order] : [...Array(loader.dataset.length).keys()];
      for (let i = 0; i < counts[l]!; i++, at++) {
        A.noGrad(() =>
          T.tidy(() => {
            const batch = loader.batch(0, i, inOrder);
            tokens[l]! += batch.inputs.size;
            T.copyInto(gathered.slice(0, at, at + 1), batchLoss(model, batch).data); // (1) <- ()
          }),
        );
        await nextTask(); // let a Ctrl-C handler run between batches (see next-task.ts)
      }
    }
    const values = Array.from(await gathered.toArray());
    let start = 0;
    return counts.map((n, l) => ({ losses: values.slice(start, (start += n)), tokens: tokens[l]! }));
  } finally {
    gathered.dispose();
  }
}

/** Mean of a list of losses, summed in float64 as the book's Python floats; NaN for none. */
export const meanLoss = (losses: readonly number[]): number =>
  losses.length === 0 ? NaN : losses.reduce((a, b) => a + b, 0) / losses.length;

/**
 * Mean of the batch losses over the loader's first batches (batchLosses), without gradients
 * and in whatever mode the model is in. NaN for an empty loader, as the book.
 */
export async function loaderLoss(
  model: GPTModel,
  loader: DataLoader,
  options: LoaderLossOptions = {},
): Promise<{ loss: number; batches: number; tokens: number }> {
  const [{ losses, tokens }] = (await batchLosses(model, [{ loader, maxBatches: options.maxBatches }])) as [
    { losses: number[]; tokens: number },
  ];
  return { loss: meanLoss(losses), batches: losses.length, tokens };
}

/** exp(loss): the perplexity of a mean cross-entropy. */
export function perplexity(loss: number): number {
  return Math.exp(loss);
}
