/**
 * One instance of the WebAssembly kernels (packages/tensor/wasm/) over a WasmHeap, with the
 * worker threads that run parts of a kernel (threads.ts). The kernels are built twice: with
 * relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add on x86 with FMA and on ARM) and with
 * plain SIMD 128 (separate multiply and add) for runtimes without relaxed SIMD; the first
 * that the runtime validates is used. Each of those is built for a wasm32 heap (4 GiB) and for
 * a memory64 one (16 GiB: a model whose weights, gradients and moments pass 4 GiB stays in the
 * heap); memory64 is used where the runtime has it (Node 24; not Node 20), found by trying it.
 */
import { type NativeKernels, nativeStatus } from './native.js';
import { type KernelCall, type KernelName, type ParallelRunner, parallelRunnerFactory } from './threads.js';
import { type HeapAddressing, WasmHeap, createMemory } from './wasm-heap.js';
import { wasmModules } from './wasm.generated.js';

/** The module's kernels (packages/tensor/wasm/kernels.ts): pointers, sizes and factors in, nothing out. */
export type KernelExports = Record<KernelName, (...args: number[]) => void>;

export interface WasmRuntimeOptions {
  /** false forces the plain-SIMD build even where relaxed SIMD validates. Default: use it when valid. */
  relaxedSimd?: boolean;
  /** false keeps the quantized matvec on the plain-SIMD dot product even where the relaxed one is right. */
  relaxedDot?: boolean;
  /** Caps the heap, in 64 KiB pages (tests lower it to exercise the typed-array fallback). */
  maximumPages?: number;
  /** false keeps matmul in WebAssembly even where the native addon is registered (native.ts). Default: use it. */
  native?: boolean;
  /**
   * 'auto' (default): memory64 where the runtime has it, else wasm32. 'memory64' where the
   * runtime lacks it throws; 'wasm32' keeps the 4 GiB heap (and its copies) anywhere.
   */
  addressing?: HeapAddressing | 'auto';
}

export interface WasmRuntime {
  readonly heap: WasmHeap;
  readonly exports: KernelExports;
  readonly runner: ParallelRunner | null;
  /** Whether the relaxed-SIMD (fused multiply-add) build runs. */
  readonly relaxedSimd: boolean;
  /**
   * Whether the quantized matvec uses the relaxed 8-bit dot product: the relaxed build runs and
   * a probe at load found the instruction exact (Node 20's V8 11.3 gets it wrong: it drops the
   * accumulator and doubles the products).
   */
  readonly relaxedDot: boolean;
  /** The native addon's kernels that matmul runs in place on this heap, or null (WebAssembly). */
  readonly native: NativeKernels | null;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** The module bytes to run: relaxed SIMD when wanted and valid here, else plain SIMD. */
export function kernelModule(
  relaxedSimd = true,
  addressing: HeapAddressing = 'wasm32',
): { bytes: Uint8Array<ArrayBuffer>; relaxedSimd: boolean } {
  const name = addressing === 'memory64' ? 'kernels64' : 'kernels';
  const relaxed = decode(wasmModules[`${name}.relaxed`]!);
  if (relaxedSimd && WebAssembly.validate(relaxed)) return { bytes: relaxed, relaxedSimd: true };
  return { bytes: decode(wasmModules[name]!), relaxedSimd: false };
}

let memory64: boolean | undefined;

/**
 * Whether this runtime runs the memory64 kernels: it makes a shared i64-addressed memory and
 * validates the module (Node 20 and runtimes before the memory64 proposal throw or refuse).
 */
export function hasMemory64(): boolean {
  if (memory64 === undefined) {
    try {
      createMemory('memory64', 1, 1);
      memory64 = WebAssembly.validate(decode(wasmModules.kernels64!));
    } catch {
      memory64 = false;
    }
  }
  return memory64;
}

/** The heap addressing an option asks for, resolved against what this runtime has. */
export function resolveAddressing(choice: WasmRuntimeOptions['addressing'] = 'auto'): HeapAddressing {
  if (choice === 'auto') return hasMemory64() ? 'memory64' : 'wasm32';
  if (choice === 'memory64' && !hasMemory64()) {
    throw new Error(
      'cpu heap: this runtime has no WebAssembly memory64 (Node 24 has it, Node 20 does not); use the wasm32 heap',
    );
  }
  return choice;
}

/**
 * Runs `kernel` over [0, n) split into one contiguous part per thread (part starts are
 * multiples of `granule`); on the calling thread alone when n is below `parallelMin`.
 */
export function runSplit(
  runtime: WasmRuntime,
  kernel: KernelName,
  n: number,
  granule: number,
  parallelMin: number,
  argsFor: (start: number, count: number, part: number) => number[],
): void {
  const threads = runtime.runner && n >= parallelMin ? runtime.runner.threads : 1;
  const step = Math.ceil(n / threads / granule) * granule;
  const calls: KernelCall[] = [];
  for (let start = 0; start < n; start += step)
    calls.push({ kernel, args: argsFor(start, Math.min(step, n - start), calls.length) });
  const runHere = (call: KernelCall) => runtime.exports[call.kernel](...call.args);
  if (calls.length > 1) runtime.runner!.run(calls, runHere);
  else if (calls.length === 1) runHere(calls[0]!);
}

export function createWasmRuntime(options: WasmRuntimeOptions = {}): WasmRuntime {
  const addressing = resolveAddressing(options.addressing);
  const heap = new WasmHeap(addressing, options.maximumPages);
  const { bytes, relaxedSimd } = kernelModule(options.relaxedSimd, addressing);
  const env = {
    memory: heap.memory,
    abort: () => {
      throw new Error('kernel: abort');
    },
  };
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env }).exports as unknown as KernelExports;
  const runner = parallelRunnerFactory()?.(heap.memory, bytes) ?? null;
  const native = options.native === false ? null : nativeStatus().kernels;
  const probe = exports.relaxedDotProbe as unknown as (lastA: number, lastB: number) => number;
  const relaxedDot = relaxedSimd && options.relaxedDot !== false && probe(-127, 127) === 1;
  return { heap, exports, runner, relaxedSimd, relaxedDot, native };
}
