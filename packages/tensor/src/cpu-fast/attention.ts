/**
 * Fused attention and its backward on the fast CPU backend: WebAssembly (packages/tensor/wasm/
 * attention.ts) split across the threads, the forward by blocks of BR query rows, the backward
 * by heads (a head's dk, dv sum over all its rows). Each thread gets scratch for one block's
 * (BR, Tk) scores (two in the backward) and sgemm's packing, never a head's (Tq, Tk) weights.
 * float64, or tensors outside the heap, go to the reference kernels.
 */
import type { AttentionArgs, AttentionBackwardArgs, Kernels } from '../backend.js';
import { attention as referenceAttention, attentionBackward as referenceBackward } from '../cpu/attention.js';
import { maskConstants } from '../dropout-mask.js';
import { heapAddress, heapAddresses } from './heap-views.js';
import { sgemmScratchBytes } from './matmul.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

/**
 * Multiply-adds below which one thread does a kernel call alone: decoding's calls (one query
 * row against a few hundred keys, about 0.2 M per layer in the 124M model) ran slower split in
 * two than on one thread, the other thread's wake-up and the wait for it costing more than its
 * half of the work.
 */
const PARALLEL_MIN = 1 << 20;
const align = (bytes: number) => Math.ceil(bytes / 64) * 64;
/** The kernels' header block (wasm/attention.ts): q, k, v, sizes, scale, mask, dropout, BR. */
const HEADER_BYTES = 128;
/** Query rows per block: the products' M; BR x Tk floats of scratch per thread. */
const BR = 64;

function writeHeader(
  rt: WasmRuntime,
  block: number,
  at: number[],
  args: AttentionArgs | AttentionBackwardArgs,
  keepAt: number,
): void {
  const { q, k, v, nh, Tq, Tk, hd, scale, causal, dropout } = args;
  const view = new DataView(rt.heap.buffer(), block, HEADER_BYTES);
  // Addresses are 64-bit: a memory64 heap passes 4 GiB (an int32 slot wrapped them there).
  [q, k, v].forEach((x, i) => {
    view.setBigUint64(24 * i, BigInt(at[i]!), true);
    [x.strides[0]!, x.strides[1]!, x.strides[2]!].forEach((w, j) => view.setInt32(24 * i + 8 + 4 * j, w, true));
  });
  [nh, Tq, Tk, hd].forEach((w, j) => view.setInt32(72 + 4 * j, w, true));
  view.setFloat64(88, scale, true);
  const { threshold, scale: dropScale } = maskConstants(dropout?.p ?? 0);
  view.setInt32(96, causal ? 1 : 0, true);
  view.setInt32(100, dropout ? (dropout.keep ? 2 : 1) : 0, true);
  view.setUint32(104, threshold, true);
  view.setFloat32(108, dropScale, true);
  if (dropout?.keep) view.setBigUint64(112, BigInt(keepAt), true);
  else
    [dropout?.key[0] ?? 0, dropout?.key[1] ?? 0, dropout?.stream ?? 0].forEach((w, j) =>
      view.setUint32(112 + 4 * j, w, true),
    );
  view.setInt32(124, BR, true);
}

/**
 * Runs `body` with a heap block of the header and `threads` scratch rows, or returns false
 * when q, k or v is not a float32 tensor in this heap (or the block does not fit).
 */
function withHeader(
  rt: WasmRuntime,
  args: AttentionArgs | AttentionBackwardArgs,
  scratchFloats: number,
  body: (header: number, scratchAt: (part: number) => number) => void,
): boolean {
  const at = [args.q, args.k, args.v].map((v) => (v.dtype === 'float32' ? heapAddress(rt, v) : null));
  if (at.some((a) => a === null)) return false;
  // The kernel's blocks, a row of dropout factors and 8 mask words, then sgemm's packing.
  const rowBytes = align(4 * (scratchFloats + args.Tk + 8)) + sgemmScratchBytes(Math.max(args.Tk, args.hd));
  const threads = rt.runner?.threads ?? 1;
  // A host-drawn mask (the torch stream) is copied in after the threads' scratch.
  const keep = args.dropout?.keep;
  const rowsBytes = HEADER_BYTES + rowBytes * threads;
  const bytes = rowsBytes + (keep ? align(keep.length) : 0);
  const block = rt.heap.allocate(bytes);
  if (block === null) return false;
  try {
    if (keep) new Uint8Array(rt.heap.buffer(), block + rowsBytes, keep.length).set(keep);
    writeHeader(rt, block, at as number[], args, block + rowsBytes);
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
    const blocks = B * nh * Math.ceil(Tq / BR);
    const done =
      outs !== null &&
      withHeader(rt, args, BR * Tk, (header, scratchAt) => {
        runSplit(
          rt,
          'attentionBlocks',
          blocks,
          1,
          Math.max(2, Math.ceil(PARALLEL_MIN / (Math.min(BR, Tq) * Tk * hd))),
          (first, count, part) => [header, ...outs, scratchAt(part), first, count],
        );
      });
    if (!done) referenceAttention(args);
  };
}

export function createAttentionBackward(runtime: () => WasmRuntime): Kernels['attentionBackward'] {
  return (args) => {
    const { dout, lse, delta, dq, dk, dv, B, nh, Tq, Tk, hd } = args;
    const rt = runtime();
    const rest = heapAddresses(rt, [dout, lse, delta, dq, dk, dv]);
    const done =
      rest !== null &&
      withHeader(rt, args, 2 * BR * Tk + Tk * hd, (header, scratchAt) => {
        runSplit(
          rt,
          'attentionBackwardHeads',
          B * nh,
          1,
          Math.max(2, Math.ceil(PARALLEL_MIN / (Tq * Tk * hd))),
          (first, count, part) => [header, ...rest, scratchAt(part), first, count],
        );
      });
    if (!done) referenceBackward(args);
  };
}
