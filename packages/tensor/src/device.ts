/** A device: one backend plus what the user should know about the hardware behind it. */
import type { Backend } from './backend.js';
import { DeviceError, describeValue } from './errors.js';

/**
 * A backend family's name: 'cpu' and 'webgpu' here; a new backend (half-precision WebGPU, a
 * native CPU backend) brings its own and registers it with `registerDeviceKind`, editing no union.
 */
export type DeviceKind = string;

/**
 * What a user names to choose a device (the CLI's `--device`, the page's menu, `getDevice`):
 * `auto` takes a hardware GPU when there is one, else the CPU (see select-device.ts).
 */
export const deviceChoices = ['auto', 'cpu', 'webgpu'] as const;
export type DeviceChoice = (typeof deviceChoices)[number];

/** `value` as a device choice, or undefined when it names none. */
export function parseDeviceChoice(value: string | null | undefined): DeviceChoice | undefined {
  return deviceChoices.find((c) => c === value);
}

export interface AdapterLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
  maxStorageBuffersPerShaderStage: number;
}

export interface DeviceInfo {
  kind: DeviceKind;
  /** One line for people: "SwiftShader Device (Subzero) (vulkan, core, software)". */
  description: string;
  vendor?: string;
  architecture?: string;
  /** The Dawn backend used (vulkan, opengl, metal, d3d12), where known. */
  api?: string;
  featureLevel?: 'core' | 'compatibility';
  /** A software rasterizer (SwiftShader, llvmpipe) rather than a GPU. */
  software?: boolean;
  limits?: AdapterLimits;
}

/**
 * Throws DeviceError unless `device` is a Device (untyped code may pass undefined, a kind name
 * or anything else); the message names the op and the value.
 */
export function checkDevice(device: unknown, op: string): asserts device is Device {
  // Duck-typed, not instanceof: a second copy of this package (two bundles) makes Devices too.
  if (typeof device === 'object' && device !== null && 'backend' in device && 'info' in device) return;
  const hint = typeof device === 'string' ? ` (open one first: await getDevice(${JSON.stringify(device)}))` : '';
  throw new DeviceError(`${op}: expected a Device, got ${describeValue(device)}${hint}`);
}

export class Device {
  constructor(
    readonly backend: Backend,
    readonly info: DeviceInfo,
  ) {}

  get kind(): DeviceKind {
    return this.backend.kind;
  }

  toString(): string {
    return `${this.kind}: ${this.info.description}`;
  }
}
