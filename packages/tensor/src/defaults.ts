/** The device new tensors go to when none is named. Starts as the CPU reference device. */
import { CpuBackend } from './cpu/backend.js';
import { createFastCpuBackend } from './cpu-fast/backend.js';
import { nativeStatus } from './cpu-fast/native.js';
import type { WasmRuntimeOptions } from './cpu-fast/wasm-runtime.js';
import { Device, checkDevice } from './device.js';
import { cpuHeapSetting } from './environment.js';

/** The CPU reference backend: plain loops, the oracle of the tests. */
export const cpu = new Device(new CpuBackend(), { kind: 'cpu', description: 'CPU reference kernels (JavaScript)' });

/** The CPU device getDevice() hands out: WebAssembly SIMD kernels where written, reference kernels otherwise. */
// A getter: the variable is read (and a bad value refused, EnvironmentError) when the backend
// first needs its heap, not at import, so that a bad value cannot break `--help`.
const fastBackend = createFastCpuBackend({
  get addressing() {
    return cpuHeapSetting() satisfies WasmRuntimeOptions['addressing'];
  },
});
export const fastCpu = new Device(fastBackend, {
  kind: 'cpu',
  // A getter: the Node entry point registers the native addon after this module is evaluated,
  // and memory64 asked for where the runtime lacks it throws when used, not at import.
  get description() {
    return `CPU (WebAssembly SIMD kernels on every core: matmul, softmax, layer norm, cross-entropy, GELU, AdamW and more; ${nativeStatus().summary}; ${fastBackend.heapSummary()})`;
  },
});

let current: Device = cpu;

export function getDefaultDevice(): Device {
  return current;
}

/** Makes `device` the default for new tensors. Throws DeviceError when it is not a Device. */
export function setDefaultDevice(device: Device): void {
  checkDevice(device, 'setDefaultDevice');
  current = device;
}
