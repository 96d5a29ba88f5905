/**
 * Parallel parts of one WebAssembly kernel call. The calling thread runs part 0 and waits (Atomics.wait) for
 * the others, so kernels stay synchronous. Workers are platform-specific (Node's
 * worker_threads, a browser's Web Workers): an entry point registers a factory here; without
 * one everything runs on the calling thread.
 */

/** The kernels the module exports (packages/tensor/wasm/kernels.ts), in a fixed order. */
export const kernelNames = [
  'sgemm',
  'sgemmSmallM',
  'adamw',
  'dropout',
  'uniformFill',
  'gelu',
  'geluBackward',
  'widenHalf',
  'narrowHalf',
  'softmaxRows',
  'softmaxBackwardRows',
  'logSumExpRows',
  'softmaxScaledRows',
  'layerNormRows',
  'layerNormBackwardRows',
  'sumMiddle',
  'copyStrided',
  'binaryArith',
  'scalarArith',
  'gatherRows',
  'scatterAddColumns',
  'attentionBlocks',
  'attentionBackwardHeads',
  'quantizeActivations',
  'quantMatvec',
  'quantDecodeRows',
] as const;
export type KernelName = (typeof kernelNames)[number];

/** One call of an exported kernel: its name and its arguments (numbers: pointers, sizes, factors). */
export interface KernelCall {
  kernel: KernelName;
  args: number[];
}

export interface ParallelRunner {
  /** Threads that run parts, the caller included. */
  readonly threads: number;
  /** Runs calls[1..] on workers and calls[0] via `runHere`; returns when all are done. */
  run(calls: KernelCall[], runHere: (call: KernelCall) => void): void;
}

export type RunnerFactory = (memory: WebAssembly.Memory, wasm: Uint8Array) => ParallelRunner;

let factory: RunnerFactory | null = null;

export function setParallelRunnerFactory(f: RunnerFactory | null): void {
  factory = f;
}

export function parallelRunnerFactory(): RunnerFactory | null {
  return factory;
}
