// The smaller faults of the bug hunt (issue 27, item 10), each a test: AdamW refuses a negative
// or NaN rate; trainModel refuses zero batches and evalFreq 0 instead of returning a
// "finished" state or never evaluating; a config.json with a byte-order mark loads; hub ids
// such as "owner/." are not repositories; --seed names its real limit; --revision "" is refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { describe, expect, it } from 'vitest';
import { VERDICT, runCli } from '../cli/run-cli.js';

const config = G.resolveConfig('tiny', { contextLength: 8 });

describe('library checks', () => {
  it('AdamW refuses lr -1, NaN and Infinity, and betas outside [0, 1)', () => {
    const model = G.GPTModel.create(config, { seed: 1 });
    for (const lr of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new G.AdamW(model.params, { lr })).toThrow(/AdamW: lr must be a finite number >= 0/);
    expect(() => new G.AdamW(model.params, { lr: 1e-3, betas: [0.9, 1] })).toThrow(/betas\[1\] must be in \[0, 1\)/);
    expect(() => new G.AdamW(model.params, { lr: 0.001 })).not.toThrow();
    model.dispose();
  });

  it('trainModel refuses a loader with no batch and evalFreq 0', async () => {
    const model = G.GPTModel.create(config, { seed: 1 });
    const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
    const loader = (text: string) =>
      G.createDataLoader(text, { batchSize: 2, maxLength: 8, stride: 8, device: T.cpu, dropLast: true });
    const options = { epochs: 1, evalFreq: 5, evalIter: 1, startContext: 'Hi', sampleTokens: 0 };
    await expect(G.trainModel(model, optimizer, loader('Hi'), loader('Hi'), options)).rejects.toThrow(
      /training loader has no batch/,
    );
    const text = 'Every effort moves you forward, and then some more words. '.repeat(20);
    const zero = () => G.trainModel(model, optimizer, loader(text), loader(text), { ...options, evalFreq: 0 });
    await expect(zero()).rejects.toThrow(/evalFreq must be an integer >= 1, got 0/);
    await expect(zero()).rejects.toThrow(G.ConfigError); // as trainModel's other option checks
    model.dispose();
  });

  it('a config.json starting with a byte-order mark loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bom-'));
    writeFileSync(join(dir, 'config.json'), `\uFEFF${JSON.stringify(G.toHFConfig(config))}`);
    expect((await G.loadConfig(dir)).embedDim).toBe(config.embedDim);
  });

  it.each(['owner/.', 'owner/..', './name', 'owner/-x', 'owner/x-', 'a--b/c', 'owner/name.git'])(
    '%s is not a hub repository id',
    (id) => {
      expect(G.modelRepository(id)).toBeNull();
    },
  );

  it.each(['openai-community/gpt2', 'someone/tiny_gpt2.v1', 'a/b'])('%s is a hub repository id', (id) => {
    expect(G.modelRepository(id)).toBe(id);
  });
});

describe('CLI flags', () => {
  it('--seed 1e20 names the real limit, 2^53 - 1', async () => {
    const r = await runCli(['generate', '--model', 'x', '--prompt', 'Hi', '--seed', '1e20']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('an integer from 0 to 9007199254740991 (2^53 - 1) expected, got "1e20"');
  });

  it('--revision "" is refused', async () => {
    const r = await runCli(['info', '--model', 'gpt2', '--revision', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a branch, tag or commit expected, got an empty string');
  });
});

describe('a run folder after a crash between the two renames of a save', () => {
  it('generate finds the model in checkpoint.previous, as --resume does', async () => {
    const run = mkdtempSync(join(tmpdir(), 'previous-'));
    const model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 16 }), { seed: 2 });
    await G.saveModel(join(run, 'checkpoint.previous'), model);
    model.dispose();
    const r = await runCli(['generate', '--model', run, '--prompt', 'Hi', '--max-new-tokens', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('Hi')).toBe(true);
  });
});

describe('learning rates above the peak', () => {
  it.each([
    [['--min-lr', '0.01', '--cosine'], '--min-lr 0.01 is above --lr 0.0004'],
    [['--initial-lr', '0.001', '--warmup-steps', '2'], '--initial-lr 0.001 is above --lr 0.0004'],
  ])('train %j is refused naming both flags', async (flags, message) => {
    const out = join(mkdtempSync(join(tmpdir(), 'rates-')), 'run');
    const r = await runCli(['train', '--preset', 'tiny', '--data', VERDICT, '--out', out, '--lr', '0.0004', ...flags]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
