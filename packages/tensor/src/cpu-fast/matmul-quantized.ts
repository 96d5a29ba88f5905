/**
 * Matmul with a block-quantized weight on the fast CPU backend, through the WebAssembly SIMD
 * kernels in packages/tensor/wasm/quant.ts, split across the worker threads by output columns,
 * or, for small M where the native addon is registered, its matvec (native/src/qgemv.c: the
 * same bits on 256-bit vectors, on the addon's own threads).
 * - M <= SMALL_M (decoding, a few rows): the rows of a are quantized to 8 bits a block of 32
 *   (one float32 scale each), and every output is a sum of integer block dot products scaled
 *   by both blocks' scales: the weights are read once, as stored (8.5 or 4.5 bits a weight).
 *   The activation rounding makes each output differ from the exact product by at most
 *   sum over blocks of (max|a| / 254) * sum |w| (plus float32 rounding).
 * - larger M (a prompt, an evaluation window): rows of W are decoded to float32 a chunk at a
 *   time into the heap and multiplied by sgemm, as a float32 weight would be (the exact
 *   decoded weights: the result matches the reference to float32 rounding).
 * Operands outside the heap go to the reference kernel.
 */
import type { QuantMatmulArgs } from '../backend.js';
import { matmulQuantized as referenceMatmulQuantized } from '../cpu/matmul-quantized.js';
import { blockBytes, blocksPerRow } from '../quantized.js';
import { heapAddress, heapBytes } from './heap-views.js';
import { noRoom } from './wasm-heap.js';
import { PARALLEL_MIN_WORK, parts, sgemmScratchBytes } from './matmul.js';
import type { KernelCall } from './threads.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

/** Up to this many rows of a use the integer matvec; more decode W and run sgemm. */
export const QUANT_SMALL_M = 8;
/** Weights decoded per sgemm chunk in the large-M path (16 MB of float32). */
const DECODE_CHUNK = 1 << 22;
/** Below this many multiply-adds the matvec stays on the calling thread. */
const PARALLEL_MIN_MATVEC = 1 << 16;

/**
 * Rows a thread claims at a time in the shared matvec: a multiple of 4 (the kernel's row groups),
 * about 16 claims a thread (so the last claims even out the threads' finishing times), at most
 * 256 rows (a gpt2-xl head's 50,257 rows: 0.4 MB of int8 a claim).
 */
export function sharedChunk(N: number, threads: number): number {
  return Math.min(256, Math.max(4, Math.ceil(N / (16 * threads) / 4) * 4));
}

export function createMatmulQuantized(runtime: () => WasmRuntime): (args: QuantMatmulArgs) => void {
  return (args) => {
    const { M, N, K, format, a, data, scales, bias, out } = args;
    const rt = runtime();
    const at = [a, data, scales, out].map((v) => heapAddress(rt, v));
    const biasAt = bias ? heapAddress(rt, bias) : 0;
    if (at.some((p) => p === null) || biasAt === null) {
      referenceMatmulQuantized(args);
      return;
    }
    const [aAt, wAt, sAt, cAt] = at as number[] as [number, number, number, number];
    const fmt = format === 'q8_0' ? 0 : 1;
    const nb = blocksPerRow(K);
    const bb = blockBytes(format);
    const threads = rt.runner?.threads ?? 1;
    const held: [number, number][] = [];
    const take = (bytes: number): number => {
      const p = rt.heap.allocate(bytes);
      if (p === null) throw noRoom(rt, `${bytes} bytes of scratch`, bytes, 'matmulQuantized');
      held.push([p, bytes]);
      return p;
    };
    try {
      if (M <= QUANT_SMALL_M) {
        // The addon reads the activations in the relaxed dot product's layout, whichever the module's.
        const rdot = rt.relaxedDot || rt.native ? 1 : 0;
        const aq = take(M * nb * 128); // ABLOCK bytes a block (wasm/quant.ts)
        const ad = take(M * nb * 4);
        rt.exports.quantizeActivations(M, K, aAt, K, aq, ad, rdot);
        const bAt = bias ? biasAt : 0;
        if (rt.native) {
          const args = [fmt, M, N, nb, aq, ad, wAt, sAt, cAt, N, bias ? biasAt : -1, sharedChunk(N, threads)];
          rt.native.qgemv(heapBytes(rt), args, M * N * K < PARALLEL_MIN_MATVEC ? 1 : threads);
          return;
        }
        if (!rt.runner || rt.runner.threads === 1 || M * N * K < PARALLEL_MIN_MATVEC) {
          rt.exports.quantMatvec(fmt, M, N, nb, aq, ad, wAt, sAt, cAt, N, bAt, rdot, 1);
          return;
        }
        // Every thread runs the same call and claims rows a chunk at a time from a shared
        // counter (wasm/quant.ts quantMatvecShared): a worker that wakes late, or a core that
        // something else is using, takes fewer rows instead of keeping the others waiting.
        const counter = take(64);
        Atomics.store(new Int32Array(rt.heap.memory.buffer, counter, 1), 0, 0);
        const chunk = sharedChunk(N, rt.runner.threads);
        const call: KernelCall = {
          kernel: 'quantMatvecShared',
          args: [counter, chunk, fmt, M, N, nb, aq, ad, wAt, sAt, cAt, N, bAt, rdot],
        };
        rt.runner.run(
          Array.from({ length: rt.runner.threads }, () => call),
          (c) => rt.exports[c.kernel](...c.args),
        );
        return;
      }
      const rows = Math.max(8, Math.floor(DECODE_CHUNK / (nb * 32 * 8)) * 8);
      const chunk = Math.min(rows, N);
      const decoded = take(4 * chunk * nb * 32);
      const scratchBytes = sgemmScratchBytes(chunk);
      const scratch = take(threads * scratchBytes);
      const runHere = (call: KernelCall) => rt.exports[call.kernel](...call.args);
      for (let n0 = 0; n0 < N; n0 += chunk) {
        const n = Math.min(chunk, N - n0);
        runSplit(rt, 'quantDecodeRows', n, 1, n * K >= 1 << 16 ? 0 : Infinity, (r0, count) => [
          fmt,
          count,
          nb,
          wAt + (n0 + r0) * nb * bb,
          sAt + 2 * (n0 + r0) * nb,
          decoded + 128 * r0 * nb,
        ]);
        const call = [M, n, K, aAt, K, 1, decoded, 1, nb * 32, cAt + 4 * n0, N, bias ? biasAt + 4 * n0 : 0, scratch, 0];
        if (rt.runner && M * n * K >= PARALLEL_MIN_WORK)
          rt.runner.run(parts('sgemm', M, n, call, scratchBytes, threads), runHere);
        else runHere({ kernel: 'sgemm', args: call });
      }
    } finally {
      for (const [p, bytes] of held) rt.heap.release(p, bytes);
    }
  };
}
