// topKCandidates (the sampler's top-k cut, selected where the logits are) on every device
// against the CPU reference, bit for bit (a selection: no arithmetic), on awkward shapes: rows
// of 1, 7 and GPT-2's 50,257 scores, k = 1, k = n and k > n, ties at the k-th value (within
// and past the capacity), -0 beside +0, subnormals, -Infinity, +Infinity and NaN rows, several
// rows, a strided input. And the reference itself on hand-worked rows.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';

const devices = await devicesUnderTest();

async function candidates(device: T.Device, data: Float32Array, shape: number[], k: number, capacity?: number) {
  const x = T.tensor(data, { shape, device });
  const out = T.topKCandidates(x, k, capacity);
  const values = (await out.toArray()) as Float32Array;
  x.dispose();
  out.dispose();
  return values;
}

/** Seeded scores: normal, or `levels` distinct values (ties everywhere). */
function scores(n: number, seed: number, levels = 0): Float32Array {
  const values = Float32Array.from(new T.Generator(seed).normal(n, 0, 3));
  return levels > 0 ? values.map((v) => Math.round(v * levels) / levels) : values;
}

describe.each(devices)('topKCandidates on $name', ({ device, isReference }) => {
  it('keeps every score >= the k-th largest, in index order, ties and -0 = +0 included', async () => {
    const row = Float32Array.from([3, 1, 3, 2, -0, 0, -1]);
    // k = 1: both 3s tie at the top.
    expect([...(await candidates(device, row, [7], 1, 3))]).toEqual([2, 0, 2, -1, 3, 3, -Infinity]);
    // k = 5: the 5th largest is +0, so -0 (equal) stays: 6 candidates, 4 written.
    const five = await candidates(device, row, [7], 5, 4);
    expect(five[0]).toBe(6);
    expect([...five.slice(1, 5)]).toEqual([0, 1, 2, 3]);
    expect([...five.slice(5)]).toEqual([3, 1, 3, 2]);
    // k > n keeps the whole row.
    expect([...(await candidates(device, Float32Array.from([5]), [1], 3, 1))]).toEqual([1, 0, 5]);
    // A non-finite score anywhere: count -1, empty slots.
    for (const bad of [NaN, Infinity, -Infinity])
      expect([...(await candidates(device, Float32Array.from([1, bad, 2]), [3], 1, 2))]).toEqual([
        -1,
        -1,
        -1,
        -Infinity,
        -Infinity,
      ]);
  });

  it.runIf(!isReference)('matches the CPU reference bit for bit on awkward shapes', async () => {
    const V = 50257;
    const cases: Array<{ what: string; data: Float32Array; shape: number[]; k: number; capacity: number }> = [
      { what: 'n = 1', data: Float32Array.from([-2.5]), shape: [1], k: 1, capacity: 1 },
      ...[1, 3, 7, 9].map((k) => ({ what: `n = 7, k = ${k}`, data: scores(7, k), shape: [7], k, capacity: 7 })),
      { what: 'GPT-2 row, k = 1', data: scores(V, 1), shape: [1, 1, V], k: 1, capacity: 1 },
      { what: 'GPT-2 row, k = 50', data: scores(V, 2), shape: [V], k: 50, capacity: 50 },
      { what: 'GPT-2 row, k = 1024', data: scores(V, 3), shape: [V], k: 1024, capacity: 1100 },
      { what: 'GPT-2 row, k = n (overflowing)', data: scores(V, 4), shape: [V], k: V, capacity: 16 },
      { what: 'GPT-2 row, k > n', data: scores(V, 5), shape: [V], k: V + 5, capacity: 3 },
      // Four distinct values per unit: thousands tie at the k-th value.
      { what: 'ties, within capacity', data: scores(1000, 6, 4), shape: [1000], k: 10, capacity: 1000 },
      { what: 'ties, past capacity', data: scores(V, 7, 4), shape: [V], k: 40, capacity: 64 },
      {
        what: '-0, +0 and subnormals',
        data: Float32Array.from({ length: 300 }, (_, i) => [0, -0, 1e-45, -1e-45, 1e-40, -1e-40][i % 6]!),
        shape: [300],
        k: 120,
        capacity: 300,
      },
      {
        what: 'several rows, one with -Infinity, one with NaN',
        data: (() => {
          const d = scores(4 * 37, 8);
          d[37 + 5] = -Infinity;
          d[2 * 37 + 36] = NaN;
          return d;
        })(),
        shape: [2, 2, 37],
        k: 6,
        capacity: 8,
      },
      {
        what: 'negative scores only',
        data: scores(513, 9).map((v) => -Math.abs(v) - 1),
        shape: [513],
        k: 9,
        capacity: 9,
      },
    ];
    for (const { what, data, shape, k, capacity } of cases) {
      const expected = await candidates(T.cpu, data, shape, k, capacity);
      const actual = await candidates(device, data, shape, k, capacity);
      // Bits: -0 and the -Infinity fill must come through as they are.
      expect(new Uint32Array(actual.buffer), what).toEqual(new Uint32Array(expected.buffer));
    }
    // A strided view (the op makes it contiguous first): columns of a (50, 40) matrix.
    const data = scores(2000, 10);
    const run = async (d: T.Device) => {
      const x = T.tensor(data, { shape: [50, 40], device: d });
      const xt = x.transpose(0, 1);
      const out = T.topKCandidates(xt, 5, 6);
      const values = (await out.toArray()) as Float32Array;
      for (const t of [x, xt, out]) t.dispose();
      return values;
    };
    expect(await run(device)).toEqual(await run(T.cpu));
  });

  it('refuses a bad k, capacity or dtype', () => {
    const x = T.zeros([4], { device });
    expect(() => T.topKCandidates(x, 0)).toThrow(/k must be an integer >= 1/);
    expect(() => T.topKCandidates(x, 2, 1.5)).toThrow(/capacity must be an integer >= 1/);
    const ids = T.zeros([4], { device, dtype: 'int32' });
    expect(() => T.topKCandidates(ids, 1)).toThrow(/expected a float tensor/);
    x.dispose();
    ids.dispose();
  });
});

describe('unpackTopKCandidates', () => {
  it('splits rows into counts, ids and scores', () => {
    const rows = T.unpackTopKCandidates(Float32Array.from([3, 4, 9, 0.5, -2, -1, -1, -1, -Infinity, -Infinity]), 2);
    expect(rows.map((r) => [r.count, [...r.ids], [...r.scores]])).toEqual([
      [3, [4, 9], [0.5, -2]],
      [-1, [], []],
    ]);
  });
});
