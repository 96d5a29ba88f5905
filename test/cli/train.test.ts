// mini-gpt train end to end: outputs, falling loss, Ctrl-C then --resume matching an
// uninterrupted run, generate's determinism, eval against the library.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { QUICK, VERDICT, runCli } from './run-cli.js';

const losses = (dir: string) =>
  readFileSync(join(dir, 'losses.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));
const fresh = () => mkdtempSync(join(tmpdir(), 'mini-gpt-cli-'));

describe('mini-gpt train', () => {
  let straight: string;
  beforeAll(async () => {
    straight = join(fresh(), 'run');
    const r = await runCli(['train', ...QUICK, '--out', straight]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Ep 1 \(Step 000000\): Train loss \d+\.\d{3}, Val loss \d+\.\d{3}/);
    expect(r.stdout).toMatch(/sample after epoch 2: Every effort moves you/);
    expect(r.stdout).toContain(`checkpoint: ${join(straight, 'checkpoint')}`);
    // No hardware GPU in the tests: the CPU, and there the torch stream by default.
    expect(r.stdout).toContain('random numbers: torch');
  });

  it('writes the checkpoint, losses.csv and the loss plot (SVG and PNG), and the loss falls', () => {
    for (const f of [
      'checkpoint/config.json',
      'checkpoint/model.safetensors',
      'checkpoint/optimizer.safetensors',
      'checkpoint/trainer_state.json',
      'losses.csv',
      'loss.svg',
      'loss.png',
    ]) {
      expect(existsSync(join(straight, f)), f).toBe(true);
    }
    const rows = losses(straight);
    expect(rows.length).toBeGreaterThan(2);
    expect(rows[rows.length - 1]![3]!).toBeLessThan(rows[0]![3]! - 0.5);
    expect(readFileSync(join(straight, 'loss.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(straight, 'loss.svg'), 'utf8')).toContain('Tokens seen');
  });

  it('Ctrl-C saves and prints the resume command; --resume reaches the same losses', async () => {
    const out = join(fresh(), 'run');
    let sent = false;
    const stopped = await runCli(['train', ...QUICK, '--out', out], {
      onStdout: (text, child) => {
        if (!sent && text.includes('Step 000002')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(`resume with:  npx mini-gpt train --resume ${out}`);
    const resumed = await runCli(['train', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming: epoch \d, step \d+/);
    const a = losses(straight);
    const b = losses(out);
    expect(b.map((r) => r[0])).toEqual(a.map((r) => r[0]));
    b.forEach((row, i) => row.slice(3).forEach((v, k) => expect(v).toBeCloseTo(a[i]![3 + k]!, 5)));
  });

  it('generate is deterministic for a seed', async () => {
    const args = [
      'generate',
      '--model',
      straight,
      '--prompt',
      'Every effort moves you',
      '--max-new-tokens',
      '6',
      '--temperature',
      '1.5',
      '--top-k',
      '50',
    ];
    const one = await runCli([...args, '--seed', '7']);
    const two = await runCli([...args, '--seed', '7']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.startsWith('Every effort moves you')).toBe(true);
    expect(two.stdout).toBe(one.stdout);
    const greedyCached = await runCli(['generate', '--model', straight, '--prompt', 'I had', '--max-new-tokens', '6']);
    const greedyUncached = await runCli([
      'generate',
      '--model',
      straight,
      '--prompt',
      'I had',
      '--max-new-tokens',
      '6',
      '--no-cache',
    ]);
    expect(greedyUncached.stdout).toBe(greedyCached.stdout);
  });

  it('eval --json agrees with the library', async () => {
    const r = await runCli(['eval', '--model', straight, '--data', VERDICT, '--max-batches', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json).sort()).toEqual(['batches', 'loss', 'perplexity', 'tokens']);
    const model = await G.loadModel(join(straight, 'checkpoint'), T.cpu);
    const text = readFileSync(VERDICT, 'utf8');
    const expected = await G.loaderLoss(
      model.eval(),
      G.createDataLoader(text, { batchSize: 2, maxLength: 32, stride: 32 }),
      { maxBatches: 3 },
    );
    expect(json.loss).toBeCloseTo(expected.loss, 5);
    expect(json.perplexity).toBeCloseTo(Math.exp(expected.loss), 2);
    expect(json.tokens).toBe(192);
    expect(json.batches).toBe(3);
  });
});
