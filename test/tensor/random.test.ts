// The counter-based generator: Threefry-2x32-20 known answers, determinism, distributions.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor';

describe('Threefry-2x32-20', () => {
  it('reproduces the Random123 known-answer vectors', () => {
    const out = new Uint32Array(2);
    const cases: Array<[number[], number[], number[]]> = [
      // [key, counter, expected]
      [
        [0, 0],
        [0, 0],
        [0x6b200159, 0x99ba4efe],
      ],
      [
        [0xffffffff, 0xffffffff],
        [0xffffffff, 0xffffffff],
        [0x1cb996fc, 0xbb002be7],
      ],
      [
        [0x13198a2e, 0x03707344],
        [0x243f6a88, 0x85a308d3],
        [0xc4923a9c, 0x483df7a0],
      ],
    ];
    for (const [key, counter, expected] of cases) {
      T.threefry2x32(key[0]!, key[1]!, counter[0]!, counter[1]!, out);
      expect(Array.from(out)).toEqual(expected);
    }
  });
});

describe('Generator', () => {
  it('gives the same numbers for the same seed and different ones for another seed', async () => {
    const a = await T.randn([100], { generator: new T.Generator(42) }).toArray();
    const b = await T.randn([100], { generator: new T.Generator(42) }).toArray();
    const c = await T.randn([100], { generator: new T.Generator(43) }).toArray();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('each call draws a fresh stream, and manualSeed resets the default generator', async () => {
    T.manualSeed(123);
    const first = await T.rand([5]).toArray();
    const second = await T.rand([5]).toArray();
    T.manualSeed(123);
    expect(Array.from(await T.rand([5]).toArray())).toEqual(Array.from(first));
    expect(Array.from(second)).not.toEqual(Array.from(first));
  });

  it('randn has mean 0 and std 1, rand covers [low, high), randint stays in range', async () => {
    const g = new T.Generator(1);
    const n = Array.from(await T.randn([20000], { generator: g }).toArray());
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const std = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(std - 1)).toBeLessThan(0.03);
    const u = Array.from(await T.rand([20000], { generator: g, low: -2, high: 3 }).toArray());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(Math.abs(u.reduce((s, v) => s + v, 0) / u.length - 0.5)).toBeLessThan(0.05);
    const r = Array.from(await T.randint(5, 9, [1000], { generator: g }).toArray());
    expect(new Set(r)).toEqual(new Set([5, 6, 7, 8]));
  });

  it('stream positions can be saved and restored (for resuming training)', async () => {
    const g = new T.Generator(9);
    g.takeStream();
    const position = g.streamPosition;
    const next = await T.rand([3], { generator: g }).toArray();
    const h = new T.Generator(9);
    h.streamPosition = position;
    expect(Array.from(await T.rand([3], { generator: h }).toArray())).toEqual(Array.from(next));
  });
});
