/**
 * The portable entry points must run in a browser: bundling them for one (Vite, the web app's
 * bundler) must not reach a Node built-in. The Node entry is the control: it must be caught.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'vite';
import { describe, expect, it } from 'vitest';

const dist = (pkg: string, entry: string) =>
  fileURLToPath(new URL(`../../packages/${pkg}/dist/${entry}.js`, import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Bundles `entry` for the browser; returns the Node built-ins it imports, with their importers. */
async function nodeImports(entry: string, external: RegExp[] = []): Promise<string[]> {
  const found: string[] = [];
  const recordBuiltins: Plugin = {
    name: 'record-node-builtins',
    enforce: 'pre',
    resolveId(id, importer) {
      if (!builtins.has(id) && !id.startsWith('node:')) return null;
      found.push(`${id} (from ${importer})`);
      return { id, external: true };
    },
  };
  await build({
    configFile: false,
    logLevel: 'silent',
    plugins: [recordBuiltins],
    build: { write: false, lib: { entry, formats: ['es'], fileName: 'bundle' }, rollupOptions: { external } },
  });
  return found;
}

describe('portable entry points', () => {
  it.each([
    ['@mini/gpt', dist('gpt', 'index')],
    ['@mini/tensor/web', dist('tensor', 'web')],
  ])('%s bundles for a browser without a Node built-in', async (_name, entry) => {
    expect(await nodeImports(entry)).toEqual([]);
  });

  it('the check catches the Node entry (@mini/gpt/node imports fs and crypto)', async () => {
    // The hub client's browser build lacks its cache functions (Node-only): leave it out here.
    const found = await nodeImports(dist('gpt', 'node'), [/^@huggingface\/hub/]);
    expect(found.some((f) => f.startsWith('node:fs'))).toBe(true);
    expect(found.some((f) => f.startsWith('node:crypto'))).toBe(true);
  });
});
