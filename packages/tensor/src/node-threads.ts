/**
 * Worker threads for the fast CPU backend (Node): one worker per extra core, each instantiating
 * the matmul module over the same shared memory. A job is published in a shared control block;
 * workers wake on Atomics.notify, run their part, count themselves done and notify back.
 * The workers are unref'd, so they never keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KernelCall, ParallelRunner, RunnerFactory } from './cpu-fast/threads.js';

const SLOT = 16; // words per worker: [kernel (1 sgemm, 2 sgemmSmallM, 0 none), 13 arguments, ...]
const KERNELS = { sgemm: 1, sgemmSmallM: 2 } as const;

// Plain JavaScript, evaluated in the worker: it cannot import the package (tests run sources).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { wasm, memory, control, slot } = workerData;
const exports = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { memory, abort() { throw new Error('sgemm: abort'); } } }).exports;
const words = new Int32Array(control);
const args = new Uint32Array(control);
let seen = 0;
for (;;) {
  Atomics.wait(words, 0, seen);
  seen = Atomics.load(words, 0);
  const base = 2 + slot * ${SLOT};
  const kernel = words[base];
  if (kernel !== 0) (kernel === 1 ? exports.sgemm : exports.sgemmSmallM)(...args.subarray(base + 1, base + 14));
  Atomics.add(words, 1, 1);
  Atomics.notify(words, 1);
}
`;

export function nodeRunnerFactory(threads = availableParallelism()): RunnerFactory {
  return (memory, wasm) => {
    const workers = Math.max(0, threads - 1);
    const control = new SharedArrayBuffer(4 * (2 + SLOT * Math.max(1, workers)));
    const words = new Int32Array(control);
    const args = new Uint32Array(control);
    for (let slot = 0; slot < workers; slot++) {
      new Worker(WORKER_SOURCE, { eval: true, workerData: { wasm, memory, control, slot } }).unref();
    }
    const runner: ParallelRunner = {
      threads: workers + 1,
      run(calls: KernelCall[], runHere: (call: KernelCall) => void): void {
        if (calls.length > workers + 1) throw new Error(`parallel matmul: ${calls.length} parts for ${workers + 1} threads`);
        for (let slot = 0; slot < workers; slot++) {
          const call = calls[slot + 1];
          const base = 2 + slot * SLOT;
          words[base] = call ? KERNELS[call.kernel] : 0;
          if (call) args.set(call.args, base + 1);
        }
        Atomics.store(words, 1, 0);
        Atomics.store(words, 0, (Atomics.load(words, 0) + 1) & 0x3fffffff); // a new generation wakes the workers
        Atomics.notify(words, 0);
        runHere(calls[0]!);
        for (let done = Atomics.load(words, 1); done < workers; done = Atomics.load(words, 1)) Atomics.wait(words, 1, done);
      },
    };
    return runner;
  };
}
