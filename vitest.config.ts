import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Dawn reads these from the real process environment when it starts: set them here, in the
// main process, so every test fork inherits them (a worker cannot set them for native code).
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(swiftshader)) process.env.VK_ICD_FILENAMES = swiftshader;
process.env.EGL_PLATFORM ??= 'surfaceless';
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'xdg-'));

// Tests import the TypeScript sources, and the CLI tests run the built CLI: refresh the
// embedded WGSL and the build first (both are quick when nothing changed).
execFileSync(process.execPath, [fileURLToPath(new URL('./scripts/embed-shaders.mjs', import.meta.url))]);
execFileSync(process.execPath, [fileURLToPath(new URL('./scripts/build-wasm.mjs', import.meta.url))]);
execFileSync(process.execPath, [fileURLToPath(new URL('./scripts/build-wasm-rng.mjs', import.meta.url))]);
execFileSync(process.execPath, [fileURLToPath(new URL('./node_modules/typescript/bin/tsc', import.meta.url)), '-b'], {
  stdio: 'inherit',
});

const src = (pkg: string, entry = 'index') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url));
const alias = {
  '@mini/tensor/node': src('tensor', 'node'),
  '@mini/tensor': src('tensor'),
  '@mini/autograd': src('autograd'),
  '@mini/gpt/node': src('gpt', 'node'),
  '@mini/gpt': src('gpt'),
};

// The WebGPU suites run once per software adapter: SwiftShader over Vulkan (core WebGPU) and
// Mesa's llvmpipe over OpenGL (compatibility mode), so both kinds of user hardware are covered.
const adapters = [
  { name: 'webgpu-swiftshader', backend: 'vulkan' },
  { name: 'webgpu-llvmpipe', backend: 'opengl' },
];

export default defineConfig({
  resolve: { alias },
  test: {
    // Forks, not threads: Dawn's OpenGL backend crashes with several devices in worker threads.
    pool: 'forks',
    // global.gc for the memory measurements (test/gpt/streaming-load.test.ts).
    execArgv: ['--expose-gc'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      // test/devices/ runs in every project, on that project's devices (test/helpers/devices.ts).
      {
        extends: true,
        test: {
          name: 'core',
          include: [
            'test/tensor/**/*.test.ts',
            'test/autograd/**/*.test.ts',
            'test/gpt/**/*.test.ts',
            'test/cli/**/*.test.ts',
            'test/devices/**/*.test.ts',
          ],
          env: { MINI_GPT_TEST_DEVICES: 'cpu' },
        },
      },
      // Minutes to hours on the CPU reference backend: only with `npm run test:slow`.
      ...(process.env.MINI_GPT_SLOW === '1'
        ? [{ extends: true, test: { name: 'slow', include: ['test/slow/**/*.test.ts'] } }]
        : []),
      // The web app in Debian's chromium (playwright-core), on WebGPU and on the CPU backend.
      { extends: true, test: { name: 'browser', include: ['test/web/**/*.test.ts'] } },
      ...adapters.map(({ name, backend }) => ({
        extends: true,
        test: {
          name,
          include: ['test/webgpu/**/*.test.ts', 'test/devices/**/*.test.ts'],
          env: { MINI_GPT_WEBGPU_BACKEND: backend, MINI_GPT_TEST_DEVICES: 'webgpu' },
        },
      })),
    ],
  },
});
