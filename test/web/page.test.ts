/**
 * The web app in headless chromium, on both devices: WebGPU (SwiftShader without a GPU) and
 * the WebAssembly CPU backend. It trains, loads what `mini-gpt train` wrote and generates the
 * same greedy text as `mini-gpt generate`, saves a model the CLI reads back, and shows the
 * reader's message for a truncated file. Screenshots go to $TMPDIR/mini-gpt-web-screenshots.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Download, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { launchChromium, serveWebApp } from '../../packages/web/scripts/browser.mjs';

const VERDICT = readFileSync(new URL('../../packages/cli/data/the-verdict.txt', import.meta.url), 'utf8');
/**
 * A short text (about 240 tokens: 5 training steps of 2 x 16 tokens, 2 validation windows) and
 * few evaluations: software WebGPU (SwiftShader) takes seconds per step.
 */
const SHORT = VERDICT.slice(0, 1000);
const TRAIN = {
  contextLength: 16,
  epochs: 1,
  batchSize: 2,
  evalFreq: 2,
  evalIter: 1,
  lr: 0.004,
  trainRatio: 0.8,
  sampleTokens: 8,
};
const PROMPT = 'Every effort moves you';
const NEW_TOKENS = 12;
const SCREENSHOTS = join(tmpdir(), 'mini-gpt-web-screenshots');
const GENERATE_FLAGS = [
  '--prompt',
  PROMPT,
  '--max-new-tokens',
  String(NEW_TOKENS),
  '--temperature',
  '0',
  '--device',
  'cpu',
];

let served: { server: PreviewServer; origin: string };
let browser: BrowserContext;
let work: string;
/** What `mini-gpt generate` printed (minus its final newline) for the CLI-trained run. */
let cliText: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mini-gpt-web-'));
  const site = join(work, 'site');
  served = await serveWebApp(site);
  browser = await launchChromium();
  writeFileSync(join(work, 'short.txt'), SHORT);
  const trained = await runCli([
    'train',
    '--preset',
    'tiny',
    '--data',
    join(work, 'short.txt'),
    '--out',
    join(work, 'run'),
    '--context-length',
    '16',
    '--epochs',
    '1',
    '--eval-freq',
    '4',
    '--eval-iter',
    '1',
    '--lr',
    '0.004',
    '--train-ratio',
    '0.8',
    '--sample-tokens',
    '0',
    '--device',
    'cpu',
  ]);
  expect(trained.code, trained.stderr).toBe(0);
  const generated = await runCli(['generate', '--model', join(work, 'run'), ...GENERATE_FLAGS]);
  expect(generated.code, generated.stderr).toBe(0);
  cliText = generated.stdout.replace(/\n$/, '');
  expect(cliText.startsWith(PROMPT) && cliText.length > PROMPT.length).toBe(true);
  // The run's checkpoint, served by the page's own server (same origin, Range requests).
  cpSync(join(work, 'run', 'checkpoint'), join(site, 'fixtures', 'checkpoint'), { recursive: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await served?.server.close();
});

async function openPage(device: 'webgpu' | 'cpu'): Promise<Page> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${served.origin}/?device=${device}`);
  await page.waitForFunction(
    () =>
      document.getElementById('device-status')!.textContent!.startsWith('Device:') ||
      !document.getElementById('error')!.hidden,
  );
  expect(await errorText(page), 'the page failed to open its device').toBe('');
  expect(problems).toEqual([]);
  return page;
}

/** Runs `body` on a fresh page on `device`, and closes the page after. */
async function withPage(device: 'webgpu' | 'cpu', body: (page: Page) => Promise<void>): Promise<void> {
  const page = await openPage(device);
  try {
    await body(page);
  } finally {
    await page.close();
  }
}

async function errorText(page: Page): Promise<string> {
  return (await page.isVisible('#error')) ? ((await page.textContent('#error-text')) ?? '') : '';
}

/** Waits for the worker to finish its task (the page marks it idle) and for no error. */
async function idle(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.task === 'idle', null, { timeout });
}

async function generateGreedy(page: Page): Promise<string> {
  await page.click('#tab-generate');
  await page.fill('#prompt', PROMPT);
  await page.fill('#temperature', '0');
  await page.fill('#maxNewTokens', String(NEW_TOKENS));
  await page.click('#generate');
  await idle(page, 300_000);
  expect(await errorText(page)).toBe('');
  return (await page.textContent('#output')) ?? '';
}

async function loadFolder(page: Page, folder: string): Promise<void> {
  await page.click('#tab-generate');
  await page.setInputFiles('#open-folder', folder);
  await idle(page, 120_000);
}

describe.each(['webgpu', 'cpu'] as const)('the page on %s', (device) => {
  let page: Page;
  beforeAll(async () => {
    page = await openPage(device);
  }, 120_000);
  afterAll(async () => {
    await page?.close();
  });

  it('runs on the device asked for, and says which', async () => {
    const status = (await page.textContent('#device-status'))!;
    // A missing WebGPU adapter is a failure here, not a skip.
    expect(status).toMatch(device === 'webgpu' ? /^Device: WebGPU: / : /^Device: CPU \(WebAssembly\), \d+ threads?/);
    console.log(`[web ${device}] ${status}`);
    await page.click('#tab-device');
    expect(await page.textContent('#device-info')).toContain('Cross-origin isolatedyes');
    await page.screenshot({ path: join(SCREENSHOTS, `${device}-device.png`) });
  });

  it('trains the tiny preset for one epoch: the chart gets its points, the loss falls, a sample appears', async () => {
    await page.click('#tab-train');
    await page.fill('#text', SHORT);
    await page.selectOption('#preset', 'tiny');
    for (const [id, value] of Object.entries(TRAIN)) await page.fill(`#${id}`, String(value));
    await page.click('#start');
    await page.waitForSelector('#stop-train:enabled');
    await idle(page, 600_000);
    expect(await errorText(page)).toBe('');
    const summary = (await page.textContent('#train-summary'))!;
    expect(summary).toMatch(/^Done: \d+ steps, [\d,]+ tokens seen/);
    const steps = Number(/Done: (\d+) steps/.exec(summary)![1]);
    expect(steps).toBeGreaterThanOrEqual(4);
    // An evaluation every evalFreq steps, from step 0: the chart's training-loss path has a point for each.
    const trainPath = (await page.getAttribute('#chart svg path[stroke="#1f77b4"]', 'd'))!;
    const ys = [...trainPath.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(Math.ceil(steps / TRAIN.evalFreq));
    expect(ys[ys.length - 1]!).toBeGreaterThan(ys[0]!); // SVG y grows downwards: the loss fell
    const line = (await page.textContent('#eval-line'))!;
    expect(line).toMatch(/^Ep 1 \(Step \d{6}\): Train loss \d+\.\d{3}, Val loss \d+\.\d{3}$/);
    expect(await page.textContent('#samples li')).toMatch(/^Epoch 1: Every effort moves you\S*\s*\S/);
    if (device === 'cpu') {
      // Cross-origin isolated: every core takes part (the worker and hardwareConcurrency - 1 Web Workers).
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(summary).toContain(`tokens/s on ${cores} CPU thread${cores === 1 ? '' : 's'}.`);
    }
    console.log(`[web ${device}] ${summary}`);
    await page.screenshot({ path: join(SCREENSHOTS, `${device}-train.png`) });
  }, 600_000);

  it('saves the trained model; mini-gpt generate reads it and writes what the page writes', async () => {
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.click('#save-train');
    await idle(page, 120_000);
    await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
    const saved = mkdtempSync(join(work, 'saved-'));
    for (const d of downloads) await d.saveAs(join(saved, d.suggestedFilename()));
    expect(downloads.map((d) => d.suggestedFilename()).sort()).toEqual(['config.json', 'model.safetensors']);
    const pageText = await generateGreedy(page);
    const cli = await runCli(['generate', '--model', saved, ...GENERATE_FLAGS]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(pageText).toBe(cli.stdout.replace(/\n$/, ''));
  }, 300_000);

  it('loads the checkpoint mini-gpt train wrote (a run folder, then a URL) and generates what mini-gpt generate does', async () => {
    await loadFolder(page, join(work, 'run'));
    expect(await errorText(page)).toBe('');
    expect(await page.textContent('#model-status')).toMatch(/checkpoint\/model\.safetensors: [\d,]+ parameters/);
    expect(await generateGreedy(page)).toBe(cliText);
    await page.screenshot({ path: join(SCREENSHOTS, `${device}-generate.png`) });

    await page.fill('#model-url', `${served.origin}/fixtures/checkpoint/`);
    await page.click('#load-url');
    await idle(page, 120_000);
    expect(await errorText(page)).toBe('');
    expect(await page.textContent('#model-status')).toContain('/fixtures/checkpoint/model.safetensors:');
    expect(await generateGreedy(page)).toBe(cliText);
  }, 300_000);

  it("shows the reader's message for a truncated model.safetensors, and keeps working", async () => {
    const checkpoint = join(work, 'run', 'checkpoint');
    const bytes = readFileSync(join(checkpoint, 'model.safetensors'));
    const broken = mkdtempSync(join(work, 'truncated-'));
    writeFileSync(join(broken, 'model.safetensors'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    copyFileSync(join(checkpoint, 'config.json'), join(broken, 'config.json'));
    await page.click('#tab-generate');
    await page.setInputFiles('#open-files', [join(broken, 'model.safetensors'), join(broken, 'config.json')]);
    await idle(page, 120_000);
    expect(await errorText(page)).toMatch(
      /^model\.safetensors: tensor "[\w.]+": data_offsets \[\d+, \d+\] run past the data \(\d+ bytes after the header\)$/,
    );
    await page.screenshot({ path: join(SCREENSHOTS, `${device}-error.png`) });
    // The previous model is still there and still generates.
    expect(await page.textContent('#model-status')).toContain('/fixtures/checkpoint/model.safetensors:');
    expect(await generateGreedy(page)).toBe(cliText);
    expect(await errorText(page)).toBe('');
  }, 300_000);
});

describe('a file chosen as the text (CPU)', () => {
  it("is refused with the CLI's UTF-8 check when it is a picture, and the text is kept", async () =>
    withPage('cpu', async (page) => {
      const picture = join(work, 'picture.png');
      // A PNG's signature, then a NUL: not UTF-8 at byte 0 (the CLI's readTextFile says the same).
      writeFileSync(picture, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
      const before = await page.inputValue('#text');
      await page.setInputFiles('#text-file', picture);
      await page.waitForFunction(() => !document.getElementById('error')!.hidden);
      expect(await errorText(page)).toContain('picture.png: not UTF-8 text (byte 0x89 at offset 0); give a text file');
      expect(await page.inputValue('#text')).toBe(before);
    }));
});

describe('the page without cross-origin isolation', () => {
  it('runs the CPU kernels on one thread, says so, and still generates what mini-gpt generate does', async () => {
    const page = await browser.newPage();
    // Served without COOP/COEP there is no SharedArrayBuffer to share with Web Workers.
    await page.route('**/*', async (route) => {
      const response = await route.fetch();
      const headers = response.headers();
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
    try {
      await page.goto(`${served.origin}/?device=cpu`);
      await page.waitForFunction(() => document.getElementById('device-status')!.textContent!.startsWith('Device:'));
      expect(await page.textContent('#device-status')).toBe('Device: CPU (WebAssembly), 1 thread');
      expect(await page.textContent('#device-note')).toContain('not cross-origin isolated');
      await loadFolder(page, join(work, 'run', 'checkpoint'));
      expect(await errorText(page)).toBe('');
      expect(await generateGreedy(page)).toBe(cliText);
    } finally {
      await page.close();
    }
  }, 300_000);
});

describe('stopping and continuing a run (CPU)', () => {
  it('stays responsive while training, stops after a step, and Continue finishes the run', async () => {
    await withPage('cpu', async (page) => {
      await page.fill('#text', SHORT);
      for (const [id, value] of Object.entries({ ...TRAIN, epochs: 20, evalFreq: 10 }))
        await page.fill(`#${id}`, String(value));
      await page.click('#start');
      await page.waitForFunction(() => /^\d+ \/ \d+$/.test(document.getElementById('stat-step')!.textContent!));
      // The worker trains; the page still switches views and answers.
      await page.click('#tab-device');
      expect(await page.isVisible('#view-device')).toBe(true);
      await page.click('#tab-train');
      await page.click('#stop-train');
      await idle(page, 120_000);
      const stopped = (await page.textContent('#train-summary'))!;
      expect(stopped).toMatch(/^Stopped: \d+ steps/);
      const [, total] = /^\d+ \/ (\d+)$/.exec((await page.textContent('#stat-step'))!)!;
      expect(Number(/^Stopped: (\d+) steps/.exec(stopped)![1])).toBeLessThan(Number(total));
      await page.click('#continue');
      await idle(page, 300_000);
      expect(await errorText(page)).toBe('');
      expect(await page.textContent('#train-summary')).toMatch(new RegExp(`^Done: ${total} steps`));
      expect(await page.locator('#samples li').count()).toBe(20);
    });
  }, 300_000);
});

describe('switching device with a model loaded', () => {
  it('moves the model from the CPU to WebGPU, which then writes what mini-gpt generate does', async () => {
    await withPage('cpu', async (page) => {
      await loadFolder(page, join(work, 'run', 'checkpoint'));
      expect(await errorText(page)).toBe('');
      await page.click('#tab-device');
      await page.selectOption('#device-choice', 'webgpu');
      await idle(page, 120_000);
      expect(await errorText(page)).toBe('');
      expect(await page.textContent('#device-status')).toMatch(/^Device: WebGPU: /);
      expect(await page.textContent('#model-status')).toMatch(/checkpoint\/model\.safetensors: [\d,]+ parameters/);
      expect(await generateGreedy(page)).toBe(cliText);
    });
  }, 300_000);
});
