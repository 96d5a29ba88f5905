// configureNode and the CLI's configureCli: every MINI_GPT_* variable read and checked at once,
// before a command runs, so that a bad value is refused in one line (exit 2) even by a command
// that would never have read it, and before any work (no run folder made).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@mini/tensor/node';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const NAMES = [
  'MINI_GPT_DEVICE',
  'MINI_GPT_WEBGPU_BACKEND',
  'MINI_GPT_WEBGPU_SUBGROUPS',
  'MINI_GPT_WEBGPU_CAPTURE',
  'MINI_GPT_CPU_HEAP',
  'MINI_GPT_THREADS',
  'MINI_GPT_NATIVE',
  'MINI_GPT_NATIVE_ISA',
];
const saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]));
afterEach(() => {
  for (const n of NAMES) {
    if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
  }
});

describe('configureNode', () => {
  it('gives the defaults with nothing set', () => {
    for (const n of NAMES) delete process.env[n];
    expect(T.configureNode()).toEqual({
      device: undefined,
      webgpuBackend: undefined,
      webgpuSubgroups: true,
      webgpuCapture: true,
      cpuHeap: 'auto',
      threads: availableParallelism(),
      native: true,
      nativeIsa: undefined,
    });
  });

  it('reads every variable', () => {
    Object.assign(process.env, {
      MINI_GPT_DEVICE: 'cpu',
      MINI_GPT_WEBGPU_BACKEND: 'opengl',
      MINI_GPT_WEBGPU_SUBGROUPS: '0',
      MINI_GPT_WEBGPU_CAPTURE: '0',
      MINI_GPT_CPU_HEAP: 'wasm32',
      MINI_GPT_THREADS: '1',
      MINI_GPT_NATIVE: '0',
      MINI_GPT_NATIVE_ISA: 'avx2',
    });
    expect(T.configureNode()).toEqual({
      device: 'cpu',
      webgpuBackend: 'opengl',
      webgpuSubgroups: false,
      webgpuCapture: false,
      cpuHeap: 'wasm32',
      threads: 1,
      native: false,
      nativeIsa: 'avx2',
    });
  });

  it.each([
    ['MINI_GPT_DEVICE', 'gpu'],
    ['MINI_GPT_WEBGPU_BACKEND', 'directx'],
    ['MINI_GPT_WEBGPU_SUBGROUPS', 'off'],
    ['MINI_GPT_WEBGPU_CAPTURE', 'off'],
    ['MINI_GPT_CPU_HEAP', 'bogus'],
    ['MINI_GPT_THREADS', '0'],
    ['MINI_GPT_NATIVE', 'yes'],
    ['MINI_GPT_NATIVE_ISA', 'sse2'],
  ])('refuses %s=%s in one line naming it', (name, value) => {
    process.env[name] = value;
    let error: unknown;
    try {
      T.configureNode();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(T.EnvironmentError);
    expect((error as T.EnvironmentError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(new RegExp(`^${name}="${value}": use [^\\n]+$`));
  });
});

describe('the CLI checks every variable before a command runs', () => {
  it.each([
    ['MINI_GPT_THREADS', 'abc'],
    ['MINI_GPT_DEVICE', 'gpu'],
    ['MINI_GPT_DATA_URL', 'not a url'],
  ])('%s=%s: cache ls (which reads none of them) exits 2 in one line', async (name, value) => {
    const r = await runCli(['cache', 'ls'], { env: { [name]: value } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${name}=.*: use `));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a bad variable stops train before its run folder is made', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'configure-')), 'run');
    const r = await runCli(['train', '--preset', 'tiny', '--out', out], { env: { MINI_GPT_CPU_HEAP: 'bogus' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: MINI_GPT_CPU_HEAP="bogus": use auto, wasm32, memory64/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('importing @mini/tensor/node', () => {
  it('changes no environment variable and sets no global; configureNode does, once', () => {
    // A fresh process (the built package), without the variables vitest's config sets.
    const script = `
      const T = await import('@mini/tensor/node');
      const seen = () => [process.env.EGL_PLATFORM ?? null, typeof globalThis.GPUBufferUsage];
      const before = seen();
      T.configureNode();
      process.stdout.write(JSON.stringify({ before, after: seen() }));`;
    const env = { ...process.env };
    for (const name of ['EGL_PLATFORM', 'XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY']) delete env[name];
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const linux = process.platform === 'linux';
    expect(JSON.parse(r.stdout)).toEqual({
      before: [null, 'undefined'],
      after: [linux ? 'surfaceless' : null, 'function'],
    });
  });
});
