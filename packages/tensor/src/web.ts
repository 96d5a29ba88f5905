/**
 * The browser entry point: everything in index.ts, with Web Workers registered as the fast CPU
 * backend's threads where that can work (a cross-origin isolated page, code running in a
 * worker: see web-threads.ts). Elsewhere the CPU kernels run on the calling thread alone.
 * WebGPU comes from navigator.gpu (the default GPUProvider).
 *
 * @module @mini/tensor/web
 */
import { setParallelRunnerFactory } from './cpu-fast/threads.js';
import { webRunnerFactory, webThreadsAvailable } from './web-threads.js';

if (webThreadsAvailable()) setParallelRunnerFactory(webRunnerFactory());

export { webRunnerFactory, webThreadsAvailable } from './web-threads.js';
export * from './index.js';
