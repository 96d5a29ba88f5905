// Every row of the elementwise op table, and the gelu/geluBackward kernel entries, on every
// device against the CPU reference, on awkward shapes: sizes that are not multiples of the
// 256-invocation workgroup, size 1, empty, permuted and broadcast views; copy, copyInto, fill.
// Tolerances:
// - CPU devices, generic kernels: bit-identical (atol 0, rtol 0): both run the table's float64
//   CPU functions and round once.
// - WebGPU: exact ops (one correct rounding on both sides) to one ulp; WGSL allows a few ulp
//   for division and inverse sqrt, and more for exp, log, pow and tanh (tanh near 0 is ~5e-5
//   relative on llvmpipe; GELU's far tail has ~3e-7 absolute error).
// - gelu / geluBackward entries (float32 tanh on WebGPU and in the fast CPU's WebAssembly):
//   forward a few ulp times |x|; backward also the float32 cancellation in 1 + tanh and
//   1 - tanh^2 where tanh is near -1, times |dy|.
// Exclusions: the CPU reference itself (the oracle).
import { describe, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { binaryOps, unaryOps, type Device, type Generator } from '@mini/tensor/node';
import type { Tolerance } from '../helpers/allclose.js';
import { devicesUnderTest } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const devices = (await devicesUnderTest()).filter((d) => !d.isReference);

const BIT_EXACT = { atol: 0, rtol: 0 };
const EXACT = { atol: 0, rtol: 1.2e-7 };
const TRANSCENDENTAL = { atol: 2e-6, rtol: 5e-5 };
const GELU = { atol: 2e-6, rtol: 5e-5 };
const GELU_BACKWARD = { atol: 2e-5, rtol: 5e-5 };
const webgpuTolerances: Record<string, Tolerance> = {
  neg: EXACT,
  abs: EXACT,
  relu: EXACT,
  square: EXACT,
  sign: EXACT,
  add_scalar: EXACT,
  mul_scalar: EXACT,
  rsub_scalar: EXACT,
  max_scalar: EXACT,
  min_scalar: EXACT,
  add: EXACT,
  sub: EXACT,
  mul: EXACT,
  maximum: EXACT,
  minimum: EXACT,
  eq: EXACT,
  lt: EXACT,
  gt: EXACT,
  // gelu'(x) has 0.5 * (1 + tanh(u)) with tanh(u) -> -1 for x << 0 (inputs here have |dy| up to ~8).
  gelu_backward: GELU_BACKWARD,
};
const tolerance = (device: Device, op: string): Tolerance =>
  device.kind === 'cpu' ? BIT_EXACT : (webgpuTolerances[op] ?? TRANSCENDENTAL);

// Inputs chosen inside each op's domain: log/sqrt/rsqrt/rdiv of positives, pow of a mix.
function input(op: string, shape: number[], device: Device, g: Generator): T.Tensor {
  const positive = ['log', 'sqrt', 'rsqrt', 'rdiv_scalar', 'div'].includes(op);
  return positive
    ? T.rand(shape, { device, generator: g, low: 0.1, high: 3 })
    : T.randn(shape, { device, generator: g, std: 2 });
}

const SHAPES = [[1], [257], [3, 5, 67], [0, 4]];
const PAIRS: Array<[number[], number[]]> = [
  [[1], [1]],
  [[300], [300]],
  [
    [4, 1, 5],
    [3, 1],
  ],
  [
    [2, 3, 1],
    [1, 1, 257],
  ],
  [[0, 3], [3]],
  [[5, 7], [7]],
];

describe.runIf(devices.length > 0)('elementwise kernels match the CPU reference', () => {
  describe.each(devices)('$name', ({ device: dev }) => {
    for (const op of unaryOps) {
      it(`unary ${op}`, async () => {
        for (const shape of SHAPES) {
          await expectParity(
            dev,
            (device, g) => T.unaryOp(op, input(op, shape, device, g), op === 'pow_scalar' ? 3 : 0.7),
            tolerance(dev, op),
            `${op} ${shape}`,
          );
        }
        // A permuted (non-contiguous) input.
        await expectParity(
          dev,
          (device, g) => T.unaryOp(op, input(op, [7, 33, 3], device, g).permute([2, 0, 1]), 2),
          tolerance(dev, op),
          `${op} permuted`,
        );
      });
    }

    for (const op of binaryOps) {
      it(`binary ${op} with broadcasting`, async () => {
        for (const [sa, sb] of PAIRS) {
          await expectParity(
            dev,
            (device, g) => {
              const a = input(op, sa, device, g);
              const b = op === 'pow' ? T.full(sb, 3, { device }) : input(op, sb, device, g);
              return T.binaryOp(op, a, b);
            },
            tolerance(dev, op),
            `${op} ${sa} with ${sb}`,
          );
        }
        // Both operands transposed views.
        await expectParity(
          dev,
          (device, g) =>
            T.binaryOp(op, input(op, [9, 70], device, g).transpose(), input(op, [9, 70], device, g).transpose()),
          tolerance(dev, op),
          `${op} transposed`,
        );
      });
    }

    // Normal values with standard deviation 4: the whole curve, tails included; sizes around
    // the SIMD width and the threads' split.
    it('gelu and geluBackward entries, sizes 1 to 100003 and special values', async () => {
      const special = [0, -0, 1e-5, -3e-4, 4e-4, 0.3, -0.62, 0.7, 3, -3, 9, -9, 30, -30, 1e4, -1e4];
      for (const n of [1, 3, 4, 5, 100_003, special.length]) {
        const x = (device: Device, g: Generator) =>
          n === special.length ? T.tensor(special, { device }) : T.mul(T.randn([n], { device, generator: g }), 4);
        await expectParity(dev, (device, g) => T.gelu(x(device, g)), GELU, `gelu n=${n}`);
        await expectParity(
          dev,
          (device, g) => T.geluBackward(x(device, g), T.randn([n], { device, generator: g })),
          GELU_BACKWARD,
          `geluBackward n=${n}`,
        );
      }
    });

    it('copy makes permuted, sliced and expanded views contiguous, for float32 and int32', async () => {
      await expectParity(
        dev,
        (device, g) => T.randn([4, 5, 6], { device, generator: g }).permute([2, 0, 1]).slice(1, 1, 4).contiguous(),
        BIT_EXACT,
        'permute+slice',
      );
      await expectParity(
        dev,
        (device, g) => T.randn([3, 1], { device, generator: g }).expand([2, 3, 300]).contiguous(),
        BIT_EXACT,
        'expand',
      );
      await expectParity(
        dev,
        (device, g) => T.randint(-5, 1000, [30, 17], { device, generator: g }).transpose().contiguous(),
        BIT_EXACT,
        'int32 transpose',
      );
    });

    it('copyInto writes a broadcast source into a strided slice', async () => {
      await expectParity(
        dev,
        (device, g) => {
          const x = T.zeros([5, 300], { device });
          T.copyInto(x.slice(1, 7, 270).transpose(), T.randn([263, 1], { device, generator: g }));
          return x;
        },
        BIT_EXACT,
        'copyInto',
      );
    });

    it('fill writes float32 and int32 constants', async () => {
      await expectParity(
        dev,
        (device) => [
          T.full([3, 257], -1.5, { device }),
          T.full([5], -7, { device, dtype: 'int32' }),
          T.zeros([1], { device }),
        ],
        BIT_EXACT,
        'fill',
      );
    });
  });
});
