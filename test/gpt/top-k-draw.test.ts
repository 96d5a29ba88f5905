// Why WebGPU's top-k sampling may draw from the candidates alone (packages/gpt/src/generate.ts
// pickNext): sampleNext on the whole row and on topKCandidates' candidates give the same id for
// the same generator state, draw after draw, with top-p on top, ties at the k-th logit, tiny
// temperatures (probabilities underflowing to 0) and top-p within a rounding of 1. On the CPU
// device (the op is the same everywhere: test/devices/top-k-candidates.test.ts).
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';

function candidates(row: Float32Array, k: number) {
  const x = T.tensor(row, { shape: [row.length], device: T.cpu });
  const out = T.topKCandidates(x, k, row.length);
  const [first] = T.unpackTopKCandidates(T.hostData(out) as Float32Array, row.length);
  x.dispose();
  out.dispose();
  return first!;
}

describe('top-k sampling from the candidates alone', () => {
  it('draws the same ids as from the whole row', () => {
    const rows: Array<[string, Float32Array]> = [
      ['normal', Float32Array.from(new T.Generator(1).normal(2000, 0, 3))],
      ['ties', Float32Array.from(new T.Generator(2).normal(2000, 0, 2), (v) => Math.round(v * 2) / 2)],
      ['-0 and +0 at the k-th', Float32Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : -0))],
    ];
    let compared = 0;
    for (const [what, row] of rows) {
      for (const topK of [1, 2, 5, 50, 700]) {
        for (const rest of [
          { temperature: 1 },
          { temperature: 0.7, topP: 0.9 },
          { temperature: 3, topP: 0.5 },
          { temperature: 1e-30 },
          { temperature: 1, topP: 1 - 2 ** -52 },
        ]) {
          const o = { maxNewTokens: 1, topK, ...rest };
          const { count, ids, scores } = candidates(row, topK);
          expect(count).toBe(ids.length);
          const [whole, reduced] = [new T.Generator(topK), new T.Generator(topK)];
          for (let draw = 0; draw < 40; draw++) {
            const expected = G.sampleNext(row, o, whole);
            expect(ids[G.sampleNext(scores, o, reduced)], `${what} ${JSON.stringify(o)} draw ${draw}`).toBe(expected);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(3 * 5 * 5 * 40);
  });
});
