/**
 * Web Workers as the fast CPU backend's threads (the browser's counterpart of node-threads.ts).
 * Needs a cross-origin isolated page (SharedArrayBuffer, a shared WebAssembly.Memory that can
 * be posted) and a calling thread that may block: a worker, since the main thread may not
 * Atomics.wait.
 *
 * NOTE: a browser starts a new worker only when its creator returns to the event loop, and a
 * kernel call blocks its caller until every part is done. So a worker takes part only once it
 * has started and caught up (its `done` word equals the current generation); until then its
 * share runs elsewhere. A caught-up worker stays caught up: every call waits for all of them.
 *
 * Control block (Int32 words): [0] generation; per worker slot, [kernel id (1 + index in
 * kernelNames, 0 for none), done generation] then its arguments as float64.
 */
import { type KernelCall, type ParallelRunner, type RunnerFactory, kernelNames } from './cpu-fast/threads.js';

const MAX_ARGS = 16;
const HEADER_BYTES = 8;
const SLOT_BYTES = 8 + 8 * MAX_ARGS;
const GENERATION_MASK = 0x3fffffff;

// Plain JavaScript for a classic worker made from a Blob: the kernel module bytes, the memory
// and the control block arrive in one message.
const WORKER_SOURCE = `
onmessage = ({ data }) => {
  onmessage = null;
  const { wasm, memory, control, slot, names } = data;
  const exports = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { memory, abort() { throw new Error('kernel: abort'); } } }).exports;
  const kernels = names.map((name) => exports[name]);
  const words = new Int32Array(control);
  const base = ${HEADER_BYTES} + slot * ${SLOT_BYTES};
  const state = new Int32Array(control, base, 2);
  const args = new Float64Array(control, base + 8, ${MAX_ARGS});
  let seen = Atomics.load(words, 0);
  Atomics.store(state, 1, seen);
  Atomics.notify(state, 1);
  for (;;) {
    Atomics.wait(words, 0, seen);
    seen = Atomics.load(words, 0);
    const id = state[0];
    if (id !== 0) { const f = kernels[id - 1]; f(...args.subarray(0, f.length)); }
    Atomics.store(state, 1, seen);
    Atomics.notify(state, 1);
  }
};
`;

/** Whether this context can run kernel parts on Web Workers (isolated, and allowed to block). */
export function webThreadsAvailable(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean; WorkerGlobalScope?: unknown; Worker?: unknown };
  return g.crossOriginIsolated === true && g.WorkerGlobalScope !== undefined && g.Worker !== undefined;
}

/** A RunnerFactory that starts `threads - 1` Web Workers (default: navigator.hardwareConcurrency). */
export function webRunnerFactory(threads = globalThis.navigator?.hardwareConcurrency ?? 1): RunnerFactory {
  return (memory, wasm) => {
    const workers = Math.max(0, threads - 1);
    const control = new SharedArrayBuffer(HEADER_BYTES + SLOT_BYTES * Math.max(1, workers));
    const words = new Int32Array(control);
    const state = (slot: number) => new Int32Array(control, HEADER_BYTES + slot * SLOT_BYTES, 2);
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    for (let slot = 0; slot < workers; slot++) {
      state(slot)[1] = -1; // not started
      new Worker(url, { name: `mini-gpt kernels ${slot + 1}` }).postMessage({
        wasm,
        memory,
        control,
        slot,
        names: [...kernelNames],
      });
    }
    const caughtUp = () => {
      const generation = Atomics.load(words, 0);
      const slots: number[] = [];
      for (let slot = 0; slot < workers; slot++) if (Atomics.load(state(slot), 1) === generation) slots.push(slot);
      return slots;
    };
    const runner: ParallelRunner = {
      get threads() {
        return 1 + caughtUp().length;
      },
      run(calls: KernelCall[], runHere: (call: KernelCall) => void): void {
        const ready = caughtUp();
        if (calls.length > ready.length + 1)
          throw new Error(`parallel kernel: ${calls.length} parts for ${ready.length + 1} threads`);
        ready.forEach((slot, i) => {
          const call = calls[i + 1];
          if (call && call.args.length > MAX_ARGS)
            throw new Error(`parallel kernel: ${call.kernel} takes more than ${MAX_ARGS} arguments`);
          state(slot)[0] = call ? kernelNames.indexOf(call.kernel) + 1 : 0;
          if (call) new Float64Array(control, HEADER_BYTES + slot * SLOT_BYTES + 8, MAX_ARGS).set(call.args);
        });
        const generation = (Atomics.load(words, 0) + 1) & GENERATION_MASK;
        Atomics.store(words, 0, generation); // wakes the workers
        Atomics.notify(words, 0);
        runHere(calls[0]!);
        for (const slot of ready) {
          const done = state(slot);
          for (let seen = Atomics.load(done, 1); seen !== generation; seen = Atomics.load(done, 1))
            Atomics.wait(done, 1, seen);
        }
      },
    };
    return runner;
  };
}
