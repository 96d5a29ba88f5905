/**
 * The WebGPU device for a test file. With MINI_GPT_REQUIRE_WEBGPU=1 (CI) a missing adapter
 * fails the run; otherwise the WebGPU tests are skipped with a message saying why.
 * MINI_GPT_WEBGPU_BACKEND picks the adapter (vulkan = SwiftShader, opengl = llvmpipe here).
 */
import { type Device, type DeviceRequest, getDevice } from '@mini/tensor/node';

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
