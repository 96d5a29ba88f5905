/**
 * Fused cross-entropy on the fast CPU backend. The (N, V) passes, logsumexp per row forward and
 * softmax(logits) * dloss / count backward, are WebAssembly (packages/tensor/wasm/
 * cross-entropy.ts) split across the threads; the targets (int32, outside the heap), the
 * ignored rows and the loss's mean are N numbers and stay here, in the reference's order.
 * float64 or tensors outside the heap go to the reference kernels.
 */
import type { Kernels } from '../backend.js';
import {
  crossEntropy as referenceCrossEntropy,
  crossEntropyBackward as referenceBackward,
  targetOf,
} from '../cpu/cross-entropy.js';
import { dataOf } from '../cpu/storage.js';
import { heapAddresses, rowsFor } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 14;

export function createCrossEntropy(runtime: () => WasmRuntime): Kernels['crossEntropy'] {
  return (args) => {
    const { logits, targets, loss, logsumexp, count, N, V, ignoreIndex } = args;
    const rt = runtime();
    const at = heapAddresses(rt, [logits, logsumexp]);
    if (!at) {
      referenceCrossEntropy(args);
      return;
    }
    const [logitsAt, lseAt] = at as [number, number];
    runSplit(rt, 'logSumExpRows', N, 1, rowsFor(PARALLEL_MIN, V), (first, n) => [logitsAt, lseAt, first, n, V]);
    const x = dataOf(logits);
    const lse = dataOf(logsumexp);
    let total = 0;
    let counted = 0;
    for (let i = 0; i < N; i++) {
      const t = targetOf(targets, i, V, ignoreIndex);
      if (t === null) continue;
      total += lse[logsumexp.offset + i]! - x[logits.offset + i * V + t]!;
      counted++;
    }
    dataOf(loss)[loss.offset] = total / counted;
    dataOf(count)[count.offset] = counted;
  };
}

export function createCrossEntropyBackward(runtime: () => WasmRuntime): Kernels['crossEntropyBackward'] {
  return (args) => {
    const { logits, targets, logsumexp, count, dloss, dlogits, N, V, ignoreIndex } = args;
    const rt = runtime();
    const at = heapAddresses(rt, [logits, logsumexp, dlogits]);
    if (!at) {
      referenceBackward(args);
      return;
    }
    const [logitsAt, lseAt, dAt] = at as [number, number, number];
    const counted = dataOf(count)[count.offset]!;
    const scale = counted > 0 ? dataOf(dloss)[dloss.offset]! / counted : 0;
    runSplit(rt, 'softmaxScaledRows', N, 1, rowsFor(PARALLEL_MIN, V), (first, n) => [
      logitsAt,
      lseAt,
      dAt,
      first,
      n,
      V,
      scale,
    ]);
    // The one-hot term, and ignored rows' zeros: one element or one row each.
    const d = dataOf(dlogits);
    for (let i = 0; i < N; i++) {
      const t = targetOf(targets, i, V, ignoreIndex);
      const row = dlogits.offset + i * V;
      if (t === null) d.fill(0, row, row + V);
      else d[row + t] = Math.fround(d[row + t]!) - scale;
    }
  };
}
