// Every MINI_GPT_* variable is checked where it is read: a bad value is one line naming the
// variable and the values it accepts, exit 2, and commands that do not read it (--help,
// --version) are not broken by it; MINI_GPT_THREADS above the core count is capped.
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let model: string;
beforeAll(async () => {
  model = mkdtempSync(join(tmpdir(), 'env-model-'));
  const m = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 16 }), { seed: 3 });
  await G.saveModel(model, m);
  m.dispose();
});

const generate = () => ['generate', '--model', model, '--prompt', 'Hi', '--max-new-tokens', '2', '--device', 'cpu'];

/** One line on stderr naming the variable, exit 2, no stack trace. */
function expectRefused(r: { code: number | null; stderr: string }, name: string): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(new RegExp(`^error: ${name}=.*: use `));
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('MINI_GPT_* environment variables', () => {
  it('a bad MINI_GPT_CPU_HEAP leaves --help and --version working', async () => {
    const env = { MINI_GPT_CPU_HEAP: 'bogus' };
    const help = await runCli(['--help'], { env });
    expect(help.code, help.stderr).toBe(0);
    const version = await runCli(['--version'], { env });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    ['MINI_GPT_CPU_HEAP', 'bogus'],
    ['MINI_GPT_THREADS', 'abc'],
    ['MINI_GPT_THREADS', '0'],
    ['MINI_GPT_THREADS', '-1'],
    ['MINI_GPT_THREADS', '2.5'],
    ['MINI_GPT_NATIVE', 'yes'],
    ['MINI_GPT_NATIVE_ISA', 'sse2'],
  ])('%s=%s is refused in one line naming it', async (name, value) => {
    expectRefused(await runCli(generate(), { env: { [name]: value } }), name);
  });

  it('MINI_GPT_DEVICE=gpu is refused in one line naming it', async () => {
    expectRefused(await runCli(['info'], { env: { MINI_GPT_DEVICE: 'gpu' } }), 'MINI_GPT_DEVICE');
  });

  it('MINI_GPT_WEBGPU_BACKEND=directx is refused in one line naming it', async () => {
    expectRefused(
      await runCli(['info', '--device', 'webgpu'], { env: { MINI_GPT_WEBGPU_BACKEND: 'directx' } }),
      'MINI_GPT_WEBGPU_BACKEND',
    );
  });

  it('MINI_GPT_DATA_URL that is not an http(s) URL is refused in one line naming it', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'env-cache-'));
    const out = join(cache, 'run');
    const r = await runCli(['train', '--preset', 'tiny', '--out', out, '--epochs', '1'], {
      env: { MINI_GPT_CACHE: cache, MINI_GPT_DATA_URL: 'not a url' },
    });
    expectRefused(r, 'MINI_GPT_DATA_URL');
  });

  it('good values still work: MINI_GPT_THREADS=1, MINI_GPT_NATIVE=0, MINI_GPT_CPU_HEAP=wasm32', async () => {
    const r = await runCli(generate(), {
      env: { MINI_GPT_THREADS: '1', MINI_GPT_NATIVE: '0', MINI_GPT_CPU_HEAP: 'wasm32' },
    });
    expect(r.code, r.stderr).toBe(0);
  });

  it('MINI_GPT_THREADS above the core count is capped at it', () => {
    const before = process.env.MINI_GPT_THREADS;
    try {
      process.env.MINI_GPT_THREADS = '1000';
      expect(T.threadsFromEnvironment()).toBe(availableParallelism());
      process.env.MINI_GPT_THREADS = '1';
      expect(T.threadsFromEnvironment()).toBe(1);
      process.env.MINI_GPT_THREADS = 'abc';
      expect(() => T.threadsFromEnvironment()).toThrow(T.EnvironmentError);
    } finally {
      if (before === undefined) delete process.env.MINI_GPT_THREADS;
      else process.env.MINI_GPT_THREADS = before;
    }
  });
});
