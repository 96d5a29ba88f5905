/**
 * Size limits a flag can hit, checked before anything is allocated: one line naming the flag,
 * what it needs and the limit, instead of V8's "Invalid typed array length" or the kernel's
 * out-of-memory kill.
 */
import * as G from '@mini/gpt/node';
import type { Device } from '@mini/tensor';
import { UsageError } from './ui.js';

/**
 * The most elements one tensor may have: V8's typed arrays stop at 2^32 elements (and a wasm32
 * heap at 4 GiB in all), so a larger tensor cannot be made at all.
 */
const MAX_TENSOR_ELEMENTS = 2 ** 32 - 1;

/**
 * Refuses a `--batch-size` whose logits (batch × length × vocabulary float32, the largest
 * tensor of a forward pass) cannot be allocated: past the largest tensor, past the CPU
 * device's tensor heap, or past the machine's available memory. Says the largest batch that fits.
 * @throws UsageError naming `flag`, the size needed and the limit
 */
export function admitBatch(flag: string, batchSize: number, length: number, vocabSize: number, device: Device): void {
  const perRow = length * vocabSize;
  const limits: [number, string][] = [[MAX_TENSOR_ELEMENTS * 4, 'the largest tensor (2^32 elements)']];
  if (device.kind !== 'webgpu') {
    limits.push([G.availableMemory(), 'available memory']);
    const heap = device.backend.tensorCapacity?.();
    if (heap !== undefined) limits.push([heap, 'the CPU device heap']);
  }
  const [limit, what] = limits.reduce((a, b) => (b[0] < a[0] ? b : a));
  const needed = 4 * batchSize * perRow;
  if (needed <= limit) return;
  const most = Math.floor(limit / (4 * perRow));
  throw new UsageError(
    `${flag} ${batchSize}: one batch's logits need ${G.formatGB(needed)} (${batchSize} × ${length} tokens × ${vocabSize} float32), over ${what} (${G.formatGB(limit)}); ${most > 0 ? `use ${flag} ${most} or less` : 'use a shorter --context-length'}`,
  );
}

/**
 * Refuses a training run that cannot fit before any tensor is made: float32 weights, gradients
 * and AdamW's two moments (16 bytes a parameter) past the available memory (CPU devices; the
 * preset or checkpoint is named as `what`), and a `--batch-size` as admitBatch.
 * @throws MemoryError for the model, UsageError for the batch
 */
export function admitTraining(what: string, config: G.GPTConfig, batchSize: number, device: Device): void {
  if (device.kind !== 'webgpu')
    G.admitMemory(
      what,
      'float32 weights, gradients and AdamW moments',
      16 * G.parameterCount(config),
      G.availableMemory(),
    );
  admitBatch('--batch-size', batchSize, config.contextLength, config.vocabSize, device);
}

/**
 * Refuses learning rates that make the schedule climb where it should fall: a cosine floor
 * (--min-lr) or a warmup start (--initial-lr) above the peak (--lr).
 * @throws UsageError naming both flags and values
 */
export function checkRates(f: { lr: number; minLr?: number; initialLr: number }): void {
  if (f.minLr !== undefined && f.minLr > f.lr)
    throw new UsageError(
      `--min-lr ${f.minLr} is above --lr ${f.lr}: the cosine decay's floor must be at most the peak`,
    );
  if (f.initialLr > f.lr)
    throw new UsageError(`--initial-lr ${f.initialLr} is above --lr ${f.lr}: warmup rises from it to the peak`);
}
