// mini-gpt convert and --dtype int8|int4 from the command line: a tiny float32 model folder is
// converted to int8, the result is a quantized file (info says so) that generate loads with
// --dtype auto and int8 and refuses as int4; --dtype int4 on a float model generates too; a
// Ctrl-C in the middle takes the new folder back.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
import { runCli, signalOnceExists } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'mini-gpt-convert-'));
const source = join(root, 'f32');
const model = G.GPTModel.create(G.resolveConfig(G.presets.tiny), { device: T.cpu, seed: 1 });
await G.saveModel(source, model);
model.dispose();

describe('mini-gpt convert', () => {
  it('writes an int8 file that info reads and generate loads without conversion', async () => {
    const out = join(root, 'int8');
    const r = await runCli(['convert', '--model', source, '--dtype', 'int8', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/int8 weights, model\.safetensors [\d.]+ [KM]B/);
    const info = await runCli(['info', '--model', out, '--json']);
    expect(info.code).toBe(0);
    const parsed = JSON.parse(info.stdout) as { model: { file: { dtype: string }; dtype: string } };
    expect(parsed.model.file.dtype).toBe('int8');
    for (const dtype of ['auto', 'int8']) {
      const g = await runCli([
        'generate',
        '--model',
        out,
        '--prompt',
        'Hello',
        '--max-new-tokens',
        '3',
        '--dtype',
        dtype,
      ]);
      expect(g.stderr).toBe('');
      expect(g.code).toBe(0);
      expect(g.stdout.startsWith('Hello')).toBe(true);
    }
    const bad = await runCli(['generate', '--model', out, '--prompt', 'Hello', '--dtype', 'int4']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*holds int8 \(q8_0\) weights; it loads as int8 only, not int4\n$/);
  });

  it('--dtype int4 quantizes a float model as it loads', async () => {
    const g = await runCli([
      'generate',
      '--model',
      source,
      '--prompt',
      'Hello',
      '--max-new-tokens',
      '3',
      '--dtype',
      'int4',
    ]);
    expect(g.stderr).toBe('');
    expect(g.code).toBe(0);
  });

  it('convert needs an explicit dtype', async () => {
    const r = await runCli(['convert', '--model', source, '--dtype', 'auto', '--out', join(root, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give --dtype int8, int4, float16, bfloat16 or float32/);
  });

  it('Ctrl-C while it converts stops with one line and takes the new folder back', async () => {
    // A model that takes about a second to convert (65 MB of float32): the signal lands once
    // the folder is made, while the weights load or the file is written.
    const big = join(root, 'f32-big');
    const m = G.GPTModel.create(G.resolveConfig('gpt2-small', { nLayers: 4, embedDim: 256, nHeads: 4 }), {
      device: T.cpu,
      seed: 1,
    });
    await G.saveModel(big, m);
    m.dispose();
    // In a folder it makes too: that goes as well.
    const out = join(root, 'new-parent', 'stopped');
    const r = await signalOnceExists(['convert', '--model', big, '--dtype', 'int8', '--out', out], out, 'SIGINT', 5);
    expect(r.code, r.stderr).toBe(130);
    // one line, with no blank line before it (stderr is a pipe here: there is no "^C" to end)
    expect(r.stderr).toBe(`Ctrl-C: convert stopped; the unfinished model in ${out} was removed\n`);
    expect(existsSync(join(root, 'new-parent'))).toBe(false);
  }, 60_000);
});
