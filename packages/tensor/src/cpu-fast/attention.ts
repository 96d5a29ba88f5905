/**
 * Fused attention and its backward on the fast CPU backend: WebAssembly (packages/tensor/wasm/
 * attention.ts) split across the threads, the forward by query rows, the backward by heads (a
 * head's dk, dv sum over all its rows). Each thread gets a scratch row of 2 Tk + 8 floats (scores,
 * dropout factors, mask words), never the (Tq, Tk) weights. float64, or tensors outside the heap, go
 * to the reference kernels.
 */
import type { AttentionArgs, AttentionBackwardArgs, Kernels } from '../backend.js';
import { attention as referenceAttention, attentionBackward as referenceBackward } from '../cpu/attention.js';
import { maskConstants } from '../dropout-mask.js';
import { heapAddress, heapAddresses, rowsFor } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

/** Multiply-adds below which one thread does a kernel call alone. */
const PARALLEL_MIN = 1 << 15;
/** The kernels' header block (wasm/attention.ts): q, k, v, sizes, scale, mask and dropout. */
const HEADER_BYTES = 112;

function writeHeader(rt: WasmRuntime, block: number, at: number[], args: AttentionArgs | AttentionBackwardArgs): void {
  const { q, k, v, nh, Tq, Tk, hd, scale, causal, dropout } = args;
  const view = new DataView(rt.heap.buffer(), block, HEADER_BYTES);
  [q, k, v].forEach((x, i) => [at[i]!, x.strides[0]!, x.strides[1]!, x.strides[2]!].forEach((w, j) => view.setInt32(16 * i + 4 * j, w, true)));
  [nh, Tq, Tk, hd].forEach((w, j) => view.setInt32(48 + 4 * j, w, true));
  view.setFloat64(64, scale, true);
  const { threshold, scale: dropScale } = maskConstants(dropout?.p ?? 0);
  view.setInt32(72, causal ? 1 : 0, true);
  view.setInt32(76, dropout ? 1 : 0, true);
  view.setUint32(80, threshold, true);
  view.setFloat32(84, dropScale, true);
  [dropout?.key[0] ?? 0, dropout?.key[1] ?? 0, dropout?.stream ?? 0].forEach((w, j) => view.setUint32(88 + 4 * j, w, true));
}

/**
 * Runs `body` with a heap block of the header and `threads` scratch rows, or returns false
 * when q, k or v is not a float32 tensor in this heap (or the block does not fit).
 */
function withHeader(rt: WasmRuntime, args: AttentionArgs | AttentionBackwardArgs, body: (header: number, rowsAt: (part: number) => number) => void): boolean {
  const at = [args.q, args.k, args.v].map((v) => (v.dtype === 'float32' ? heapAddress(rt, v) : null));
  if (at.some((a) => a === null)) return false;
  const rowBytes = 8 * args.Tk + 32; // scores, dropout factors, 8 mask words
  const threads = rt.runner?.threads ?? 1;
  const bytes = HEADER_BYTES + rowBytes * threads;
  const block = rt.heap.allocate(bytes);
  if (block === null) return false;
  try {
    writeHeader(rt, block, at as number[], args);
    body(block, (part) => block + HEADER_BYTES + rowBytes * part);
  } finally {
    rt.heap.release(block, bytes);
  }
  return true;
}

export function createAttention(runtime: () => WasmRuntime): Kernels['attention'] {
  return (args) => {
    const { out, lse, B, nh, Tq, Tk, hd } = args;
    const rt = runtime();
    const outs = heapAddresses(rt, [out, lse]);
    const done = outs !== null && withHeader(rt, args, (header, rowsAt) => {
      runSplit(rt, 'attentionRows', B * nh * Tq, 1, rowsFor(PARALLEL_MIN, Tk * hd), (first, count, part) =>
        [header, ...outs, rowsAt(part), first, count]);
    });
    if (!done) referenceAttention(args);
  };
}

export function createAttentionBackward(runtime: () => WasmRuntime): Kernels['attentionBackward'] {
  return (args) => {
    const { dout, lse, delta, dq, dk, dv, B, nh, Tq, Tk, hd } = args;
    const rt = runtime();
    const rest = heapAddresses(rt, [dout, lse, delta, dq, dk, dv]);
    const done = rest !== null && withHeader(rt, args, (header, rowsAt) => {
      runSplit(rt, 'attentionBackwardHeads', B * nh, 1, Math.max(2, Math.ceil(PARALLEL_MIN / (Tq * Tk * hd))), (first, count, part) =>
        [header, ...rest, rowsAt(part), first, count]);
    });
    if (!done) referenceBackward(args);
  };
}
