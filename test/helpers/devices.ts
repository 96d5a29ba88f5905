/**
 * The devices a test runs on. Suites under test/devices/ run in every vitest project:
 * `describe.each(await devicesUnderTest())` gives, in the core project, the CPU reference
 * (float32, and float64 where a suite asks for it) and the fast CPU backend; in each WebGPU
 * project (one per software adapter, see vitest.config.ts), WebGPU on that adapter.
 * MINI_GPT_TEST_DEVICES (set per project) says which group; MINI_GPT_WEBGPU_BACKEND picks the
 * adapter (vulkan = SwiftShader, opengl = llvmpipe here). With MINI_GPT_REQUIRE_WEBGPU=1 (CI)
 * a missing adapter fails the run; otherwise the WebGPU tests are skipped with a message.
 * Where the fast CPU device's matmul runs in the native addon, the core project also runs the
 * fast CPU backend without it, so both paths stay tested.
 */
import {
  type DType,
  Device,
  type DeviceRequest,
  type FastCpuBackend,
  cpu,
  createFastCpuBackend,
  fastCpu,
  getDevice,
} from '@mini/tensor/node';

export const webgpuRequired = process.env.MINI_GPT_REQUIRE_WEBGPU === '1';

export async function webgpuForTests(options: Omit<DeviceRequest, 'kind'> = {}): Promise<Device | null> {
  try {
    const device = await getDevice({ kind: 'webgpu', ...options });
    return device;
  } catch (e) {
    if (webgpuRequired) throw new Error(`MINI_GPT_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${(e as Error).message}`);
    console.warn(`Skipping WebGPU tests: ${(e as Error).message}`);
    return null;
  }
}

export interface TestDevice {
  /** For test names: "reference CPU", "fast CPU", "WebGPU (SwiftShader ...)". */
  readonly name: string;
  readonly device: Device;
  readonly dtype: Extract<DType, 'float32' | 'float64'>;
  /** The CPU reference itself: suites comparing a device against it skip this one. */
  readonly isReference: boolean;
}

/** The devices of this vitest project; `float64` adds the CPU reference in float64 (the oracle's precision). */
export async function devicesUnderTest(options: { float64?: boolean } = {}): Promise<TestDevice[]> {
  if (process.env.MINI_GPT_TEST_DEVICES === 'webgpu') {
    const gpu = await webgpuForTests();
    return gpu ? [{ name: `WebGPU (${gpu.info.description})`, device: gpu, dtype: 'float32', isReference: false }] : [];
  }
  return [
    ...(options.float64
      ? [{ name: 'reference CPU float64', device: cpu, dtype: 'float64', isReference: true } as const]
      : []),
    { name: 'reference CPU', device: cpu, dtype: 'float32', isReference: true },
    { name: 'fast CPU', device: fastCpu, dtype: 'float32', isReference: false },
    ...((fastCpu.backend as FastCpuBackend).runtime().native
      ? [{ name: 'fast CPU, WebAssembly matmul', device: wasmOnlyCpu(), dtype: 'float32', isReference: false } as const]
      : []),
  ];
}

let wasmOnly: Device | null = null;

/** The fast CPU backend with matmul in WebAssembly even where the native addon is built. */
function wasmOnlyCpu(): Device {
  return (wasmOnly ??= new Device(createFastCpuBackend({ native: false }), {
    kind: 'cpu',
    description: 'CPU (WebAssembly SIMD kernels, native matmul off)',
  }));
}
