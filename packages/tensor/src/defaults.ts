/** The device new tensors go to when none is named. Starts as the CPU reference device. */
import { CpuBackend } from './cpu/backend.js';
import { Device } from './device.js';

export const cpu = new Device(new CpuBackend(), { kind: 'cpu', description: 'CPU reference kernels (JavaScript)' });

let current: Device = cpu;

export function getDefaultDevice(): Device {
  return current;
}

export function setDefaultDevice(device: Device): void {
  current = device;
}
