// A config.json that claims far more layers than its weights hold (issue 27, item 10): n_layer
// 100000 took 4 s and 500 MB to build the list of expected tensors before "missing tensor". The
// layers are now counted from the file's names first, and the error says both counts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { describe, expect, it } from 'vitest';

describe('a config with absurd n_layer', () => {
  it("is refused from the header at once, naming the file's layers and the config's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'absurd-config-'));
    const model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 8, nLayers: 2 }), { seed: 1 });
    await G.saveModel(dir, model);
    model.dispose();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, n_layer: 100_000 }));
    const started = performance.now();
    await expect(G.loadModel(dir, T.cpu)).rejects.toThrow(
      `missing tensor "h.2.ln_1.weight" (the file holds 2 layers, the config says n_layer 100000)`,
    );
    expect(performance.now() - started).toBeLessThan(1000); // it took 4 s here before
  });
});
