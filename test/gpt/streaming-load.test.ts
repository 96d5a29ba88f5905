// Loading streams tensor by tensor: a full gpt2-small-shaped checkpoint (498 MB of float32,
// written here with pseudo-random values) loads with transient host memory of about its largest
// tensor (the 154 MB token embedding), not the whole file.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';

describe('streaming checkpoint load', () => {
  it('a gpt2-small-shaped file loads with transient memory well below the file size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-load-'));
    const path = join(dir, 'model.safetensors');
    const config = G.resolveConfig('gpt2-small');
    const shapes = Object.entries(G.parameterShapes(config));
    let state = 1;
    await G.writeFileAtomic(path, (sink) =>
      G.writeSafetensors(
        sink,
        shapes.map(([name, shape]) => ({
          name,
          shape,
          dtype: 'F32' as const,
          data: async () => {
            const v = new Float32Array(shape.reduce((p, d) => p * d, 1));
            for (let i = 0; i < v.length; i++) {
              state = (state * 1664525 + 1013904223) >>> 0;
              v[i] = state / 2 ** 32 - 0.5;
            }
            return v;
          },
        })),
      ),
    );
    const fileBytes = statSync(path).size;
    const largest = Math.max(...shapes.map(([, s]) => s.reduce((p, d) => p * d, 1) * 4));
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'run with --expose-gc (vitest.config.ts sets it)').toBeTypeOf('function');
    gc!();
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 1);
    const source = await G.fileSource(path);
    const model = await G.loadHFModel(source, config, T.cpu);
    await source.close();
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    const modelBytes = model.numParameters() * 4;
    const transient = peak - before - modelBytes;
    console.log(
      `file ${(fileBytes / 1e6).toFixed(0)} MB, model ${(modelBytes / 1e6).toFixed(0)} MB, largest tensor ${(largest / 1e6).toFixed(0)} MB, transient peak ${(transient / 1e6).toFixed(0)} MB`,
    );
    expect(model.numParameters()).toBe(124_439_808);
    expect(transient).toBeLessThan(2.5 * largest);
    expect(transient).toBeLessThan(0.8 * fileBytes);
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);
});
