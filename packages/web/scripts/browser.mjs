/**
 * The web app in a real browser, for test/web and scripts/screenshots.mjs: builds packages/web
 * with Vite into a given folder, serves it (cross-origin isolated, as `npm run web` does) on
 * localhost — a secure context, which WebGPU needs — and drives Debian's chromium through
 * playwright-core (no browser download).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';

const WEB = fileURLToPath(new URL('..', import.meta.url));
export const CHROMIUM = process.env.MINI_GPT_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for headless chromium: WebGPU on (SwiftShader when there is no GPU), quiet, offline. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox', // CI runs as root
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--no-first-run',
  '--no-default-browser-check',
];

/**
 * Builds the page into `outDir` and serves it; `outDir` doubles as the folder for fixtures.
 * @param {string} outDir
 * @returns {Promise<{ server: import('vite').PreviewServer; origin: string }>}
 */
export async function serveWebApp(outDir) {
  await build({
    root: WEB,
    configFile: join(WEB, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  const server = await preview({
    root: WEB,
    configFile: join(WEB, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('vite preview did not listen on a port');
  return { server, origin: `http://localhost:${address.port}` };
}

/**
 * A fresh headless chromium (its own profile folder); throws if the binary is missing.
 * @returns {Promise<import('playwright-core').BrowserContext>}
 */
export async function launchChromium() {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set MINI_GPT_CHROMIUM)`);
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'mini-gpt-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
}
