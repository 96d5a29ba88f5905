/**
 * One instance of the WebAssembly kernels (packages/tensor/wasm/) over a WasmHeap, with the
 * worker threads that run parts of a kernel (threads.ts). The kernels are built twice: with
 * relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add on x86 with FMA and on ARM) and with
 * plain SIMD 128 (separate multiply and add) for runtimes without relaxed SIMD; the first
 * that the runtime validates is used.
 */
import { type ParallelRunner, parallelRunnerFactory } from './threads.js';
import { WasmHeap } from './wasm-heap.js';
import { wasmModules } from './wasm.generated.js';

export interface SgemmExports {
  sgemm(...args: number[]): void;
  sgemmSmallM(...args: number[]): void;
}

export interface WasmRuntimeOptions {
  /** false forces the plain-SIMD build even where relaxed SIMD validates. Default: use it when valid. */
  relaxedSimd?: boolean;
  /** Caps the heap, in 64 KiB pages (tests lower it to exercise the typed-array fallback). */
  maximumPages?: number;
}

export interface WasmRuntime {
  readonly heap: WasmHeap;
  readonly exports: SgemmExports;
  readonly runner: ParallelRunner | null;
  /** Whether the relaxed-SIMD (fused multiply-add) build runs. */
  readonly relaxedSimd: boolean;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** The module bytes to run: relaxed SIMD when wanted and valid here, else plain SIMD. */
export function sgemmModule(relaxedSimd = true): { bytes: Uint8Array<ArrayBuffer>; relaxedSimd: boolean } {
  const relaxed = decode(wasmModules['sgemm.relaxed']!);
  if (relaxedSimd && WebAssembly.validate(relaxed)) return { bytes: relaxed, relaxedSimd: true };
  return { bytes: decode(wasmModules.sgemm!), relaxedSimd: false };
}

export function createWasmRuntime(options: WasmRuntimeOptions = {}): WasmRuntime {
  const heap = new WasmHeap(options.maximumPages);
  const { bytes, relaxedSimd } = sgemmModule(options.relaxedSimd);
  const env = { memory: heap.memory, abort: () => { throw new Error('sgemm: abort'); } };
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env }).exports as unknown as SgemmExports;
  const runner = parallelRunnerFactory()?.(heap.memory, bytes) ?? null;
  return { heap, exports, runner, relaxedSimd };
}
