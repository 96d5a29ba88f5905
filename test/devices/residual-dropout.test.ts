// residualDropout (a transformer block's residual add fused with its dropout) against the
// unfused add(residual, dropout(x)) on the same device with the same generator: the same bits
// (same mask from the same Threefry stream, the product rounded before the sum), on awkward
// lengths (1, odd, a pair split, 4097), p = 0.3 and 1, a strided x; then against the CPU
// reference (WebGPU's product: one ulp), the backward through autograd, and the errors.
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';

const devices = await devicesUnderTest();
const SHAPES = [[1], [3], [2, 7], [4097], [3, 5, 64]];

describe.each(devices)('residualDropout on $name', ({ device }) => {
  it('equals add(residual, dropout(x)) bit for bit, drawing the same stream', async () => {
    for (const shape of SHAPES) {
      for (const p of [0.3, 1]) {
        const g = new T.Generator(3);
        const residual = T.randn(shape, { device, generator: g });
        const x = T.randn(shape, { device, generator: g });
        const [g1, g2] = [new T.Generator(9), new T.Generator(9)];
        g1.takeStream();
        g2.takeStream();
        const fused = T.residualDropout(residual, x, p, g1);
        const d = T.dropout(x, p, g2);
        const unfused = T.add(residual, d.out);
        expect([...(await fused.out.toArray())], `${shape} p=${p}`).toEqual([...(await unfused.toArray())]);
        expect(fused.mask).toEqual(d.mask);
        expect(g1.streamPosition).toBe(g2.streamPosition);
        for (const t of [residual, x, fused.out, d.out, unfused]) t.dispose();
      }
    }
  });

  it('a strided x; matches the CPU reference', async () => {
    const make = (dev: T.Device) => {
      const g = new T.Generator(4);
      const residual = T.randn([6, 9], { device: dev, generator: g });
      const x = T.randn([9, 6], { device: dev, generator: g }).transpose();
      return T.residualDropout(residual, x, 0.4, new T.Generator(2)).out;
    };
    const [here, ref] = [await make(device).toArray(), await make(T.cpu).toArray()];
    here.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThanOrEqual(2e-7 * (1 + Math.abs(ref[i]!))));
  });

  it('its gradients: the residual gets g, x gets g through the same mask', async () => {
    const g = new T.Generator(6);
    const r = A.parameter(T.randn([5, 11], { device, generator: g }));
    const x = A.parameter(T.randn([5, 11], { device, generator: g }));
    const dy = T.randn([5, 11], { device, generator: g });
    const out = A.residualDropout(r, x, 0.5, new T.Generator(8));
    out.backward(dy);
    const mask = T.dropout(T.ones([5, 11], { device }), 0.5, new T.Generator(8)).out;
    expect([...(await r.grad!.toArray())]).toEqual([...(await dy.toArray())]);
    const want = await T.mul(dy, mask).toArray();
    const got = await x.grad!.toArray();
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(2e-7 * Math.abs(want[i]!)));
  });

  it('rejects different shapes and p outside [0, 1]', () => {
    const a = T.zeros([2, 3], { device });
    const b = T.zeros([3, 2], { device });
    expect(() => T.residualDropout(a, b, 0.1)).toThrow(
      /residualDropout: residual \[2, 3\] and x \[3, 2\] differ in shape/,
    );
    expect(() => T.residualDropout(a, a, 1.5)).toThrow(/p must be in \[0, 1\], got 1.5/);
    a.dispose();
    b.dispose();
  });
});
