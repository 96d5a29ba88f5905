// The float16-weight matmul on WebGPU has two kernels: matmul.wgsl (B as raw words, widened by
// unpack2x16float: every adapter) and matmul_f16.wgsl (B as array<f16>, read natively) for
// devices with `shader-f16`, which select-device.ts requests whenever the adapter offers it.
// Here: the choice, that the device line and the device's features agree, and the float16
// matmul against the CPU reference on whichever kernel this adapter runs. SwiftShader and
// llvmpipe (the adapters of CI) offer no shader-f16 (nor does Mesa's lavapipe, which Dawn
// turns down), so there the native-f16 kernel is never compiled: these tests check that it is
// not chosen, and on an adapter with the feature that it is the one that runs.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { matmulKernel } from '../../packages/tensor/src/webgpu/matmul.js';
import type { WebGPUBackend } from '../../packages/tensor/src/webgpu/backend.js';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
const features = gpu ? (gpu.backend as WebGPUBackend).device.features : new Set<string>();
const hasF16 = features.has('shader-f16');
// float32 products of float16-rounded weights, accumulated in float32 over K <= 300 terms.
const TOL = { atol: 1e-5, rtol: 1e-5 };

describe('the float16-weight matmul kernel', () => {
  it('is matmul_f16.wgsl for float16 with shader-f16, else matmul.wgsl with B_KIND', () => {
    const f16 = new Set(['shader-f16']);
    const none = new Set<string>();
    expect(matmulKernel(f16, 'float16')).toEqual({ shader: 'matmul_f16', constants: {} });
    expect(matmulKernel(none, 'float16')).toEqual({ shader: 'matmul', constants: { B_KIND: 1 } });
    expect(matmulKernel(f16, 'bfloat16'), 'bfloat16 has no WGSL type: a 16-bit shift').toEqual({
      shader: 'matmul',
      constants: { B_KIND: 2 },
    });
    expect(matmulKernel(f16, 'float32')).toEqual({ shader: 'matmul', constants: { B_KIND: 0 } });
  });
});

describe.runIf(gpu)('float16 weights on this adapter', () => {
  it('the device line says shader-f16 exactly when the device has it', () => {
    console.log(
      `${gpu!.info.description}: shader-f16 ${hasF16 ? 'on (matmul_f16.wgsl)' : 'not offered (unpack2x16float)'}`,
    );
    expect(gpu!.info.description.includes(', shader-f16')).toBe(hasF16);
  });
  const cases: Array<[number, number, number, boolean]> = [
    [1, 300, 129, false],
    [65, 33, 70, true],
    [130, 17, 1, false],
  ];
  for (const [M, K, N, transB] of cases) {
    it(`${M}x${K} @ float16 ${K}x${N}${transB ? ' (transposed)' : ''} matches the CPU reference`, async () => {
      await expectParity(
        gpu!,
        (device, g) => {
          const a = T.randn([M, K], { device, generator: g });
          const b = T.randn(transB ? [N, K] : [K, N], { device, generator: g }).astype('float16');
          return T.matmul(a, b, { transB });
        },
        TOL,
        'matmul float16',
      );
    });
  }
  it('ran matmul_f16.wgsl exactly where the device has shader-f16, else matmul.wgsl with B_KIND 1', () => {
    // The backend's pipeline cache: shader name, then one level per override constant.
    type Node = { next: Map<string, Map<number | boolean, Node>> | null };
    const pipelines = (gpu!.backend as unknown as { pipelines: Map<string, Node> }).pipelines;
    const hasConstant = (node: Node | undefined, name: string, value: number): boolean =>
      !!node?.next &&
      [...node.next].some(([k, byValue]) =>
        [...byValue].some(([v, child]) => (k === name && Number(v) === value) || hasConstant(child, name, value)),
      );
    const names = [...pipelines.keys()].join(', ');
    expect(pipelines.has('matmul_f16'), names).toBe(hasF16);
    expect(hasConstant(pipelines.get('matmul'), 'B_KIND', 1), names).toBe(!hasF16);
  });
});
