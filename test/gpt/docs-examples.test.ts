/**
 * The runnable examples of docs/library.md (docs/examples/*.mjs; scripts/check-docs.mjs keeps
 * the page's code blocks equal to these files) run as a user runs them: `node <file>` in a
 * child process, importing the built packages. Each test checks what the example claims to do,
 * not just that it exits: the losses fall and a checkpoint is written; the GPT-2 comes from a
 * hub (emulated on loopback) into the Hugging Face cache and decodes as the library does here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as G from '@mini/gpt/node';
import { getDevice } from '@mini/tensor/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub, fakeCommit } from '../helpers/fake-hub.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERDICT = join(ROOT, 'packages/cli/data/the-verdict.txt');

/** Runs docs/examples/<name> with node from the repository root, as the page says. */
function runExample(
  name: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'docs/examples', name), ...args], {
      cwd: ROOT,
      env: { ...process.env, MINI_GPT_DEVICE: 'cpu', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('docs/examples', () => {
  it('tensor.mjs: a softmax whose rows sum to 1', async () => {
    const { code, stdout, stderr } = await runExample('tensor.mjs', ['cpu']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^CPU \(WebAssembly SIMD kernels/);
    const [, rows] = stdout.match(/\[ 4, 3072 \] Float32Array\(4\) \[([^\]]*)\]/) ?? [];
    const sums = rows!.split(',').map(Number);
    expect(sums).toHaveLength(4);
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
  });

  it('autograd.mjs: a loss and a gradient of the weight shape', async () => {
    const { code, stdout, stderr } = await runExample('autograd.mjs');
    expect(code, stderr).toBe(0);
    const [, loss] = stdout.match(/^loss (\S+) w\.grad \[ 5, 4 \]$/m) ?? [];
    expect(Number(loss)).toBeGreaterThan(0);
  });

  it('train.mjs: the losses fall, a resumable checkpoint is written and sampled from', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mini-gpt-example-')), 'checkpoint');
    const { code, stdout, stderr } = await runExample('train.mjs', [VERDICT, out]);
    expect(code, stderr).toBe(0);
    const evals = [...stdout.matchAll(/^Ep (\d) \(Step \d{6}\): Train loss (\S+), Val loss (\S+)$/gm)];
    expect(evals.map((m) => Number(m[1]))).toEqual([1, 2, 3, 5]); // every 100 steps over 5 epochs of 72
    const [first, last] = [evals[0]!, evals[evals.length - 1]!];
    expect(Number(last[2])).toBeLessThan(Number(first[2]) - 4); // ~11 -> under 7
    expect(Number(last[3])).toBeLessThan(Number(first[3]) - 3);
    const samples = stdout.split('\n').filter((line) => line.startsWith('Every effort moves you'));
    expect(samples).toHaveLength(6); // one greedy sample per epoch (on one line), then the seeded one
    for (const file of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json'])
      expect(existsSync(join(out, file)), file).toBe(true);
    const device = await getDevice('cpu');
    const loaded = await G.loadCheckpoint(out, device);
    expect(loaded.state.epoch).toBe(5);
    // The seeded sample printed last is the saved model's: the checkpoint is what was trained.
    const options = { maxNewTokens: 10, temperature: 1.4, topK: 25, seed: 123 };
    const expected = await G.generateText(loaded.model, 'Every effort moves you', options);
    expect(stdout.endsWith(`${expected}\n`), `${stdout}\n---\n${expected}`).toBe(true);
    loaded.model.dispose();
    loaded.optimizer.dispose();
  });

  describe('gpt2.mjs, against a hub on loopback', () => {
    const hub = new FakeHub();
    let model: G.GPTModel;
    let files: Record<string, Buffer>;
    beforeAll(async () => {
      await hub.start();
      const dir = mkdtempSync(join(tmpdir(), 'tiny-gpt2-'));
      model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 64 }), { seed: 5, init: 'gpt2' });
      await G.saveModel(dir, model);
      files = {
        'config.json': readFileSync(join(dir, 'config.json')),
        'model.safetensors': readFileSync(join(dir, 'model.safetensors')),
      };
      hub.repos.set('openai-community/gpt2', { commit: fakeCommit('gpt2'), files });
    });
    afterAll(async () => {
      model.dispose();
      await hub.stop();
    });

    it('downloads gpt2 into the Hugging Face cache and decodes as the library does', async () => {
      const home = mkdtempSync(join(tmpdir(), 'hf-home-'));
      const env = { HF_HOME: home, HF_HUB_CACHE: '', HF_ENDPOINT: hub.endpoint, HF_TOKEN: '', HF_HUB_OFFLINE: '' };
      const { code, stdout, stderr } = await runExample('gpt2.mjs', [], env);
      expect(code, stderr).toBe(0);
      const snapshot = join(home, 'hub/models--openai-community--gpt2/snapshots', fakeCommit('gpt2'));
      expect(readFileSync(join(snapshot, 'model.safetensors'))).toEqual(files['model.safetensors']);
      const device = await getDevice('cpu');
      const half = await G.loadModel(snapshot, device, { dtype: 'float16' });
      const expected = await G.generateText(half, 'Every effort moves you', { maxNewTokens: 20 });
      half.dispose();
      expect(stdout).toBe(`${expected}\n`);
      // Offline, the cached snapshot is used without a request.
      const requests = hub.requests.length;
      const offline = await runExample('gpt2.mjs', [], { ...env, HF_HUB_OFFLINE: '1' });
      expect(offline.code, offline.stderr).toBe(0);
      expect(offline.stdout).toBe(stdout);
      expect(hub.requests.length).toBe(requests);
    });
  });
});
