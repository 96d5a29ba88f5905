/**
 * AdamW in the WebAssembly heap (packages/tensor/wasm/adamw.ts): float64 arithmetic in the
 * reference kernel's order, so the same bits as the reference, split across the threads.
 * Tensors outside the heap go to the reference kernel.
 */
import type { AdamWStep, View } from '../backend.js';
import { adamw as referenceAdamw } from '../cpu/adamw.js';
import { sizeOf } from '../shape.js';
import { heapAddress } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

/** Below this many elements one thread is quicker than waking the others. */
const PARALLEL_MIN = 1 << 16;

export function createAdamw(
  runtime: () => WasmRuntime,
): (param: View, grad: View, m: View, v: View, step: AdamWStep) => void {
  return (param, grad, m, v, step) => {
    const rt = runtime();
    const pointers = [param, grad, m, v].map((t) => (t.dtype === 'float32' ? heapAddress(rt, t) : null));
    if (pointers.some((p) => p === null)) {
      referenceAdamw(param, grad, m, v, step);
      return;
    }
    const [p, g, m_, v_] = pointers as number[];
    const { lr, beta1, beta2, eps, weightDecay } = step;
    const factors = [
      beta1,
      1 - beta1,
      beta2,
      1 - beta2,
      1 - lr * weightDecay,
      lr / (1 - beta1 ** step.step),
      Math.sqrt(1 - beta2 ** step.step),
      eps,
    ];
    runSplit(rt, 'adamw', sizeOf(param.shape), 16, PARALLEL_MIN, (start, count) => [
      p! + 4 * start,
      g! + 4 * start,
      m_! + 4 * start,
      v_! + 4 * start,
      count,
      ...factors,
    ]);
  };
}
