// WebGPU elementwise kernels against the CPU reference, on awkward shapes: sizes that are not
// multiples of the 256-invocation workgroup, size 1, empty, permuted and broadcast views.
import { describe, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { binaryOps, unaryOps, type Device, type Generator } from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

// Exact in f32 on both sides (CPU rounds the float64 result once, so both are correctly
// rounded): only identical results pass, up to one ulp of slack.
const EXACT = { atol: 0, rtol: 1.2e-7 };
// WGSL allows a few ulp for division and inverse sqrt, and larger errors for exp, log, pow and
// tanh (tanh near 0 is ~5e-5 relative on llvmpipe; GELU's far tail has ~3e-7 absolute error).
const TRANSCENDENTAL = { atol: 2e-6, rtol: 5e-5 };
const tolerances: Record<string, { atol: number; rtol: number }> = {
  neg: EXACT, abs: EXACT, relu: EXACT, square: EXACT, sign: EXACT, add_scalar: EXACT, mul_scalar: EXACT,
  rsub_scalar: EXACT, max_scalar: EXACT, min_scalar: EXACT, add: EXACT, sub: EXACT, mul: EXACT,
  maximum: EXACT, minimum: EXACT, eq: EXACT, lt: EXACT, gt: EXACT,
  // gelu'(x) has 0.5 * (1 + tanh(u)) with tanh(u) -> -1 for x << 0: float32 cancellation leaves
  // ~1e-6 absolute error per unit of dy (inputs here have |dy| up to ~8).
  gelu_backward: { atol: 2e-5, rtol: 5e-5 },
};

// Inputs chosen inside each op's domain: log/sqrt/rsqrt/rdiv of positives, pow of a mix.
function input(op: string, shape: number[], device: Device, g: Generator): T.Tensor {
  const positive = ['log', 'sqrt', 'rsqrt', 'rdiv_scalar', 'div'].includes(op);
  return positive ? T.rand(shape, { device, generator: g, low: 0.1, high: 3 }) : T.randn(shape, { device, generator: g, std: 2 });
}

const SHAPES = [[1], [257], [3, 5, 67], [0, 4]];

describe.runIf(gpu)('WebGPU elementwise kernels match the CPU reference', () => {
  for (const op of unaryOps) {
    it(`unary ${op}`, async () => {
      for (const shape of SHAPES) {
        await expectParity(gpu!, (device, g) => T.unaryOp(op, input(op, shape, device, g), op === 'pow_scalar' ? 3 : 0.7),
          tolerances[op] ?? TRANSCENDENTAL, `${op} ${shape}`);
      }
      // A permuted (non-contiguous) input.
      await expectParity(gpu!, (device, g) => T.unaryOp(op, input(op, [7, 33, 3], device, g).permute([2, 0, 1]), 2),
        tolerances[op] ?? TRANSCENDENTAL, `${op} permuted`);
    });
  }

  const PAIRS: Array<[number[], number[]]> = [[[1], [1]], [[300], [300]], [[4, 1, 5], [3, 1]], [[2, 3, 1], [1, 1, 257]], [[0, 3], [3]], [[5, 7], [7]]];
  for (const op of binaryOps) {
    it(`binary ${op} with broadcasting`, async () => {
      for (const [sa, sb] of PAIRS) {
        await expectParity(gpu!, (device, g) => {
          const a = input(op, sa, device, g);
          const b = op === 'pow' ? T.full(sb, 3, { device }) : input(op, sb, device, g);
          return T.binaryOp(op, a, b);
        }, tolerances[op] ?? TRANSCENDENTAL, `${op} ${sa} with ${sb}`);
      }
      // Both operands transposed views.
      await expectParity(gpu!, (device, g) => T.binaryOp(op, input(op, [9, 70], device, g).transpose(), input(op, [9, 70], device, g).transpose()),
        tolerances[op] ?? TRANSCENDENTAL, `${op} transposed`);
    });
  }

  it('copy makes permuted, sliced and expanded views contiguous, for float32 and int32', async () => {
    await expectParity(gpu!, (device, g) => T.randn([4, 5, 6], { device, generator: g }).permute([2, 0, 1]).slice(1, 1, 4).contiguous(), EXACT, 'permute+slice');
    await expectParity(gpu!, (device, g) => T.randn([3, 1], { device, generator: g }).expand([2, 3, 300]).contiguous(), EXACT, 'expand');
    await expectParity(gpu!, (device, g) => T.randint(-5, 1000, [30, 17], { device, generator: g }).transpose().contiguous(), EXACT, 'int32 transpose');
  });

  it('copyInto writes a broadcast source into a strided slice', async () => {
    await expectParity(gpu!, (device, g) => {
      const x = T.zeros([5, 300], { device });
      T.copyInto(x.slice(1, 7, 270).transpose(), T.randn([263, 1], { device, generator: g }));
      return x;
    }, EXACT, 'copyInto');
  });

  it('fill writes float32 and int32 constants', async () => {
    await expectParity(gpu!, (device) => [T.full([3, 257], -1.5, { device }), T.full([5], -7, { device, dtype: 'int32' }), T.zeros([1], { device })], EXACT, 'fill');
  });
});
