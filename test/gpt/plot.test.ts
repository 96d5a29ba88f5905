// The loss plot: only finite points are drawn, an empty validation split is named, and a
// stopped run's epoch axis covers the epochs its data covers.
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';

const record = (step: number, trainLoss: number, valLoss: number): G.LossRecord => ({
  step,
  epoch: 1,
  tokensSeen: (step + 1) * 512,
  trainLoss,
  valLoss,
});
const pathData = (svg: string) => [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1]!);
const xTickLabels = (svg: string) =>
  [...svg.matchAll(/<text x="[\d.]+" y="(\d+)" text-anchor="middle">([^<]*)<\/text>/g)]
    .filter((m) => m[1] === String(400 - 56 + 18))
    .map((m) => m[2]);

describe('lossPlotSvg', () => {
  it('draws finite points only and says when the validation split is empty', () => {
    const svg = G.lossPlotSvg([record(0, 10.9, NaN), record(5, 9.1, NaN), record(10, 8.2, NaN)], { epochs: 1 });
    const [train, validation] = pathData(svg);
    expect(train).toMatch(/^M[\d.]+,[\d.]+ L[\d.]+,[\d.]+ L[\d.]+,[\d.]+$/);
    expect(validation).toBe('');
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).toContain('no validation loss: the validation split is empty');
  });

  it('a gap (one non-finite loss) breaks the line instead of drawing NaN', () => {
    const svg = G.lossPlotSvg([record(0, 10.9, 11), record(5, Infinity, 10), record(10, 8.2, 9.5)], { epochs: 1 });
    expect(pathData(svg)[0]).toMatch(/^M[\d.]+,[\d.]+ M[\d.]+,[\d.]+$/);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).not.toContain('validation split is empty');
  });

  it('the epoch axis spans the epochs given: a third of one for a run stopped early, not the planned ten', () => {
    const history = [record(0, 10.9, 11), record(1, 10.5, 10.8), record(2, 10.1, 10.6)];
    const ticks = xTickLabels(G.lossPlotSvg(history, { epochs: 1 / 3 }));
    expect(Number(ticks[ticks.length - 1])).toBeLessThanOrEqual(1 / 3 + 1e-9);
    expect(Number(ticks[ticks.length - 1])).toBeGreaterThan(0.2);
    expect(xTickLabels(G.lossPlotSvg(history, { epochs: 10 }))).toContain('10');
  });
});
