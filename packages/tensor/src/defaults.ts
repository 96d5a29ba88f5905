/** The device new tensors go to when none is named. Starts as the CPU reference device. */
import { CpuBackend } from './cpu/backend.js';
import { createFastCpuBackend } from './cpu-fast/backend.js';
import { nativeStatus } from './cpu-fast/native.js';
import { Device } from './device.js';

/** The CPU reference backend: plain loops, the oracle of the tests. */
export const cpu = new Device(new CpuBackend(), { kind: 'cpu', description: 'CPU reference kernels (JavaScript)' });

/** The CPU device getDevice() hands out: WebAssembly SIMD kernels where written, reference kernels otherwise. */
export const fastCpu = new Device(createFastCpuBackend(), {
  kind: 'cpu',
  // A getter: the Node entry point registers the native addon after this module is evaluated.
  get description() {
    return `CPU (WebAssembly SIMD kernels on every core: matmul, softmax, layer norm, cross-entropy, GELU, AdamW and more; ${nativeStatus().summary})`;
  },
});

let current: Device = cpu;

export function getDefaultDevice(): Device {
  return current;
}

export function setDefaultDevice(device: Device): void {
  current = device;
}
