// Device selection: what auto picks without a GPU, overrides, and what is reported.
import { afterEach, describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

describe.runIf(gpu)('device selection', () => {
  const saved = process.env.MINI_GPT_DEVICE;
  afterEach(() => {
    if (saved === undefined) delete process.env.MINI_GPT_DEVICE;
    else process.env.MINI_GPT_DEVICE = saved;
  });

  it('reports the adapter: description, feature level, software flag and limits', () => {
    const info = gpu!.info;
    expect(info.kind).toBe('webgpu');
    expect(info.description.length).toBeGreaterThan(5);
    expect(['core', 'compatibility']).toContain(info.featureLevel);
    const expectedLevel = process.env.MINI_GPT_WEBGPU_BACKEND?.startsWith('opengl') ? 'compatibility' : 'core';
    expect(info.featureLevel).toBe(expectedLevel);
    expect(info.software).toBe(true); // CI and our machines have only software adapters
    expect(info.limits!.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
  });

  it('auto takes the CPU when only software adapters exist, and MINI_GPT_DEVICE overrides it', async () => {
    delete process.env.MINI_GPT_DEVICE;
    expect((await T.getDevice('auto')).kind).toBe('cpu');
    process.env.MINI_GPT_DEVICE = 'webgpu';
    expect((await T.getDevice()).kind).toBe('webgpu');
    // The API argument wins over the environment.
    expect((await T.getDevice('cpu')).kind).toBe('cpu');
    process.env.MINI_GPT_DEVICE = 'quantum';
    await expect(T.getDevice()).rejects.toThrow(/MINI_GPT_DEVICE="quantum": use auto, cpu, webgpu/);
  });

  it('a backend with no adapter gives an error that says what to install', async () => {
    await expect(T.getDevice({ kind: 'webgpu', webgpuBackend: 'metal' })).rejects.toThrow(
      /no WebGPU adapter found on the metal backend.*chromium-common/,
    );
  });

  it('tensors on different devices are refused, and .to() moves them', async () => {
    const a = T.ones([3], { device: gpu! });
    const b = T.ones([3]);
    expect(() => T.add(a, b)).toThrow(/add: tensors are on different devices \(webgpu and cpu\)/);
    const moved = await b.to(gpu!);
    expect(Array.from(await T.add(a, moved).toArray())).toEqual([2, 2, 2]);
  });

  it('float64 is refused on WebGPU with a clear message', () => {
    expect(() => T.zeros([2], { device: gpu!, dtype: 'float64' })).toThrow(
      /dtype float64 is not supported on the webgpu device/,
    );
  });
});
