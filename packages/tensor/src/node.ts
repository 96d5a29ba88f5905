/**
 * The Node entry point: everything in index.ts, with Dawn (the `webgpu` package) registered as
 * the WebGPU provider. Importing it changes no process state but one V8 flag (below): the
 * WebGPU globals and, on headless Linux, EGL_PLATFORM=surfaceless for Mesa's OpenGL adapter
 * (and a XDG_RUNTIME_DIR to keep Mesa quiet) are set by configureNode, or when Dawn first
 * starts (they must be in this process's environment, which a worker thread cannot change).
 *
 * @module @mini/tensor/node
 */
import { setFlagsFromString } from 'node:v8';
import { create } from 'webgpu';
import { setParallelRunnerFactory } from './cpu-fast/threads.js';
import { setNativeKernels } from './cpu-fast/native.js';
import { loadNativeKernels } from './node-native.js';
import { prepareNodeProcess } from './node-configure.js';
import { nodeRunnerFactory, threadsFromEnvironment } from './node-threads.js';
import { setGPUProvider } from './select-device.js';

// Dawn instances are kept for the life of the process: a collected instance takes its devices down.
const instances = new Map<string, GPU>();
setGPUProvider((flags) => {
  prepareNodeProcess(); // before Dawn's first instance reads the environment
  const key = flags.join(' ');
  let gpu = instances.get(key);
  if (!gpu) instances.set(key, (gpu = create(flags)));
  return gpu;
});

// Node 20's V8 (11.3) has relaxed SIMD behind a flag (on by default from Node 22): the fast CPU
// kernels' fused multiply-add build needs it. Wasm feature flags are read when a module is
// compiled, so setting it here, before any kernel module exists, is enough (workers included).
if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--experimental-wasm-relaxed-simd');

// The fast CPU backend's matmul uses every core (MINI_GPT_THREADS sets how many).
// Read when the first parallel kernel runs (a bad value is an EnvironmentError there, not at import).
setParallelRunnerFactory((memory, wasm) => nodeRunnerFactory(threadsFromEnvironment())(memory, wasm));
// Its matmul runs in the native addon when it was built (MINI_GPT_NATIVE=0 keeps WebAssembly).
setNativeKernels(() => loadNativeKernels());

export * from './index.js';
export { loadNativeKernels } from './node-native.js';
export { threadsFromEnvironment } from './node-threads.js';
export { configureNode, type NodeConfiguration } from './node-configure.js';
