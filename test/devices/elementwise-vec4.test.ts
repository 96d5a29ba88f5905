// The vec4 elementwise kernels (unary4, binary4, copy4, dropout4.wgsl: four contiguous elements an
// invocation, the last count % 4 through the scalar kernels) on every device against the CPU
// reference, at lengths 1, 3 (scalar only), 4 (vec4 only), 5 (vec4 and a one-element tail) and
// 1,000,003 (many workgroups and a tail), and at views starting at element 4 (vec4, offset
// bases) and at element 1 (not a multiple of 4: the scalar kernels). On WebGPU the dispatch
// count says which path ran: one dispatch with no tail, two with one.
// Tolerances: as test/devices/elementwise.test.ts (exact ops to one ulp, GELU a few ulp times
// |x|); dropout and residual dropout draw the same Threefry words on every device, so only the
// roundings of the product and the sum differ: half an ulp of values up to about 15 (4.8e-7)
// plus one of the result. CPU devices run their own kernels: the same bounds.
// Exclusions: the CPU reference itself (the oracle).
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import type { Device, Generator } from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const devices = (await devicesUnderTest()).filter((d) => !d.isReference);

const EXACT = { atol: 0, rtol: 1.2e-7 };
const GELU = { atol: 2e-6, rtol: 5e-5 };
// The fast CPU's float32 tanh near -1 (1 - tanh^2 cancels) gave 0 where the reference has
// 2.4e-5 at the worst of 1,000,003 samples (x and dy of std 2): more than elementwise.test.ts's
// 2e-5 over its 100,003.
const GELU_BACKWARD = { atol: 5e-5, rtol: 5e-5 };
const LENGTHS = [1, 3, 4, 5, 1_000_003];

/** Dispatches recorded by `fn` on a WebGPU device (null elsewhere). */
function dispatches(device: Device, fn: () => void): number | null {
  const counters = (device.backend as unknown as { counters?: { dispatches: number } }).counters;
  const before = counters?.dispatches ?? 0;
  fn();
  return counters ? counters.dispatches - before : null;
}

/** n elements from position `start` of a longer tensor (a view whose offset is `start`). */
const at = (device: Device, g: Generator, n: number, start: number) =>
  T.randn([start + n], { device, generator: g, std: 2 }).slice(0, start);

describe.runIf(devices.length > 0)('vec4 elementwise kernels match the CPU reference', () => {
  describe.each(devices)('$name', ({ device: dev }) => {
    for (const n of LENGTHS) {
      for (const start of [0, 4, 1]) {
        if (n === 1_000_003 && start !== 0) continue;
        it(`length ${n} from element ${start}: add, mul, mulScalar, gelu, geluBackward, copy`, async () => {
          const ops: Array<[string, (a: T.Tensor, b: T.Tensor) => T.Tensor, { atol: number; rtol: number }]> = [
            ['add', (a, b) => T.add(a, b), EXACT],
            ['mul', (a, b) => T.mul(a, b), EXACT],
            ['mulScalar', (a) => T.mul(a, 0.37), EXACT],
            ['gelu', (a) => T.gelu(a), GELU],
            ['geluBackward', (a, b) => T.geluBackward(a, b), GELU_BACKWARD],
            [
              'copy',
              (a) => {
                const out = T.zeros([n], { device: a.device });
                T.copyInto(out, a);
                return out;
              },
              EXACT,
            ],
          ];
          for (const [name, op, tolerance] of ops) {
            await expectParity(
              dev,
              (device, g) => op(at(device, g, n, start), at(device, g, n, start)),
              tolerance,
              name,
            );
          }
        });
      }
      it(`length ${n}: dropout and residual dropout (p = 0.3)`, async () => {
        await expectParity(
          dev,
          (device, g) => {
            const x = at(device, g, n, 0);
            const residual = at(device, g, n, 4);
            return [
              T.dropout(x, 0.3, new T.Generator(5)).out,
              T.residualDropout(residual, x, 0.3, new T.Generator(5)).out,
            ];
          },
          { atol: 1e-6, rtol: 2e-7 },
          `dropout n=${n}`,
        );
      });
    }

    it('on WebGPU, contiguous lengths run one vec4 dispatch and a scalar one for a tail', () => {
      T.tidy(() => {
        const g = new T.Generator(1);
        const count = (n: number, start: number) => {
          const [a, b] = [at(dev, g, n, start), at(dev, g, n, start)];
          return dispatches(dev, () => T.add(a, b));
        };
        if (dev.kind !== 'webgpu') return;
        expect(count(4, 0)).toBe(1);
        expect(count(5, 0)).toBe(2);
        expect(count(3, 0)).toBe(1);
        expect(count(1_000_003, 0)).toBe(2);
        expect(count(8, 4)).toBe(1);
        expect(count(8, 1)).toBe(1);
        const x = at(dev, g, 1_000_003, 0);
        expect(dispatches(dev, () => T.dropout(x, 0.1, new T.Generator(2)))).toBe(2);
      });
    });
  });
});
