/**
 * Worker threads for the fast CPU backend (Node): one worker per extra core, each instantiating
 * the kernel module over the same shared memory. A job is published in a shared control block;
 * workers wake on Atomics.notify, run their part, count themselves done and notify back.
 * The workers are unref'd, so they never keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { threadsSetting } from './environment.js';
import { type KernelCall, type ParallelRunner, type RunnerFactory, kernelNames } from './cpu-fast/threads.js';

// Per worker: a word for the kernel (1 + its index in kernelNames, 0 for none), then its
// arguments as float64 (kernels take pointers, sizes and float64 factors).
const MAX_ARGS = 16;
const SLOT_BYTES = 8 * (1 + MAX_ARGS);

// Plain JavaScript, evaluated in the worker: it cannot import the package (tests run sources).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { wasm, memory, control, slots, slot, names } = workerData;
const exports = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { memory, abort() { throw new Error('kernel: abort'); } } }).exports;
const words = new Int32Array(control);
const kernels = names.map((name) => exports[name]);
const base = slot * ${SLOT_BYTES};
const kernel = new Int32Array(slots, base, 1);
const args = new Float64Array(slots, base + 8, ${MAX_ARGS});
let seen = 0;
for (;;) {
  Atomics.wait(words, 0, seen);
  seen = Atomics.load(words, 0);
  const id = kernel[0];
  if (id !== 0) { const f = kernels[id - 1]; f(...args.subarray(0, f.length)); }
  Atomics.add(words, 1, 1);
  Atomics.notify(words, 1);
}
`;

/**
 * MINI_GPT_THREADS: how many threads the fast CPU kernels use (default and cap: the core
 * count, os.availableParallelism(); a larger number is taken as the core count).
 * @throws EnvironmentError for a value that is not a whole number of at least 1
 */
export function threadsFromEnvironment(): number {
  return threadsSetting(availableParallelism());
}

export function nodeRunnerFactory(threads = availableParallelism()): RunnerFactory {
  return (memory, wasm) => {
    const workers = Math.max(0, threads - 1);
    const control = new SharedArrayBuffer(8);
    const slots = new SharedArrayBuffer(SLOT_BYTES * Math.max(1, workers));
    const words = new Int32Array(control);
    const names = [...kernelNames];
    for (let slot = 0; slot < workers; slot++) {
      new Worker(WORKER_SOURCE, { eval: true, workerData: { wasm, memory, control, slots, slot, names } }).unref();
    }
    const runner: ParallelRunner = {
      threads: workers + 1,
      run(calls: KernelCall[], runHere: (call: KernelCall) => void): void {
        if (calls.length > workers + 1)
          throw new Error(`parallel kernel: ${calls.length} parts for ${workers + 1} threads`);
        for (let slot = 0; slot < workers; slot++) {
          const call = calls[slot + 1];
          if (call && call.args.length > MAX_ARGS)
            throw new Error(`parallel kernel: ${call.kernel} takes more than ${MAX_ARGS} arguments`);
          new Int32Array(slots, slot * SLOT_BYTES, 1)[0] = call ? kernelNames.indexOf(call.kernel) + 1 : 0;
          if (call) new Float64Array(slots, slot * SLOT_BYTES + 8, MAX_ARGS).set(call.args);
        }
        Atomics.store(words, 1, 0);
        Atomics.store(words, 0, (Atomics.load(words, 0) + 1) & 0x3fffffff); // a new generation wakes the workers
        Atomics.notify(words, 0);
        runHere(calls[0]!);
        for (let done = Atomics.load(words, 1); done < workers; done = Atomics.load(words, 1))
          Atomics.wait(words, 1, done);
      },
    };
    return runner;
  };
}
