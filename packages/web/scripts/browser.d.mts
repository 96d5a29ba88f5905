// Types of browser.mjs for the type-checked tests (test/tsconfig.json).
import type { BrowserContext } from 'playwright-core';
import type { PreviewServer } from 'vite';

export const CHROMIUM: string;
export const CHROMIUM_ARGS: string[];
export function serveWebApp(outDir: string): Promise<{ server: PreviewServer; origin: string }>;
export function launchChromium(): Promise<BrowserContext>;
