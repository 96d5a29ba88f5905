/**
 * The browser example of docs/library.md (docs/examples/browser/) as a user would run it:
 * bundled with Vite, a model saved by the library put in model/ beside the page, served on
 * localhost and opened in Debian's chromium. The page must print what the library prints in
 * Node for the same model: the device it opened, then the same greedy continuation.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as G from '@mini/gpt/node';
import { fastCpu, setNativeKernels } from '@mini/tensor/node';
import type { BrowserContext } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../packages/web/scripts/browser.mjs';

const EXAMPLE = fileURLToPath(new URL('../../docs/examples/browser/', import.meta.url));

let site: string;
let server: PreviewServer;
let origin: string;
let browser: BrowserContext;
let model: G.GPTModel;

beforeAll(async () => {
  site = mkdtempSync(join(tmpdir(), 'mini-gpt-browser-example-'));
  await build({
    root: EXAMPLE,
    configFile: false,
    base: './',
    logLevel: 'warn',
    build: { outDir: site, emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  });
  // A small model with GPT-2's initialisation, saved as `mini-gpt train` saves one.
  model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 64 }), { seed: 11, init: 'gpt2' });
  await G.saveModel(join(site, 'model'), model);
  server = await preview({
    root: EXAMPLE,
    configFile: false,
    logLevel: 'warn',
    build: { outDir: site },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('vite preview did not listen on a port');
  origin = `http://localhost:${address.port}`;
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  model?.dispose();
  await browser?.close();
  await server?.close();
});

describe('docs/examples/browser', () => {
  it('loads model/ over HTTP and prints the greedy continuation the library gives in Node', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => !document.getElementById('out')!.textContent!.startsWith('loading'), null, {
      timeout: 240_000,
    });
    const out = (await page.textContent('#out')) ?? '';
    const device = (await page.textContent('#device')) ?? '';
    await page.close();
    expect(problems).toEqual([]);
    // Headless chromium here has SwiftShader at most, which auto passes over: the CPU device.
    expect(device).toMatch(/^CPU \(WebAssembly SIMD kernels/);
    // The same kernels in Node: the fast CPU device with its WebAssembly matmul.
    setNativeKernels({ kernels: null, summary: 'WebAssembly matmul, as in the browser' });
    const loaded = await G.loadModel(join(site, 'model'), fastCpu);
    const expected = await G.generateText(loaded, 'Every effort moves you', { maxNewTokens: 20 });
    loaded.dispose();
    expect(out).toBe(expected);
  });
});
