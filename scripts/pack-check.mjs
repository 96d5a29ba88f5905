#!/usr/bin/env node
// Installs the packages as a user outside this repository would: `npm pack` of @mini/tensor,
// @mini/autograd, @mini/gpt and @mini/cli, the four tarballs installed into an empty folder (their
// other dependencies from the registry), then there: `npx mini-gpt train` on a tiny model, an
// `import` of @mini/gpt in Node, and a browser bundle of docs/examples/browser built with Vite
// against the installed packages. Exits 1 with the failing step's output. Run by .ci/run after
// `npm ci` (the packages must be built).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'mini-gpt-pack-'));
const app = join(work, 'app');
const keep = process.argv.includes('--keep');

function step(what, file, args, options = {}) {
  const started = Date.now();
  try {
    const out = execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
    console.log(`pack-check: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return out;
  } catch (e) {
    console.error(`pack-check: ${what} failed\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    process.exit(1);
  }
}

try {
  const tarballs = [];
  for (const name of ['tensor', 'autograd', 'gpt', 'cli']) {
    const out = step(`npm pack @mini/${name}`, 'npm', ['pack', '--json', '--pack-destination', work], {
      cwd: join(root, 'packages', name),
    });
    tarballs.push(join(work, JSON.parse(out)[0].filename));
  }
  cpSync(join(root, 'docs/examples/browser'), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  step('npm install the four tarballs in an empty folder', 'npm', ['install', '--no-audit', '--no-fund', ...tarballs], {
    cwd: app,
  });

  // The CLI from the installed bin, on the text it ships with.
  const run = join(app, 'run');
  step(
    'npx mini-gpt train --preset tiny',
    'npx',
    [
      'mini-gpt',
      'train',
      '--preset',
      'tiny',
      '--epochs',
      '1',
      '--context-length',
      '32',
      '--sample-tokens',
      '5',
      '--device',
      'cpu',
      '--out',
      run,
    ],
    { cwd: app },
  );
  if (!statSync(join(run, 'checkpoint/model.safetensors')).isFile()) throw new Error('no checkpoint in the run folder');
  const generated = step(
    'npx mini-gpt generate --model run',
    'npx',
    [
      'mini-gpt',
      'generate',
      '--model',
      run,
      '--prompt',
      'Every effort moves you',
      '--max-new-tokens',
      '5',
      '--device',
      'cpu',
    ],
    { cwd: app },
  );
  if (!generated.startsWith('Every effort moves you')) throw new Error(`generate printed "${generated}"`);

  // The library in Node, resolved from the installed packages (not this repository's workspace).
  const script =
    "import * as G from '@mini/gpt'; import { fileURLToPath } from 'node:url';" +
    "const where = fileURLToPath(import.meta.resolve('@mini/gpt'));" +
    "if (!where.includes('/app/node_modules/')) throw new Error('resolved ' + where);" +
    "const m = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 16 }), { seed: 1 });" +
    "const t = await G.generateText(m, 'Hello', { maxNewTokens: 3 }); if (!t.startsWith('Hello')) throw new Error(t);" +
    'console.log(t);';
  step("import { … } from '@mini/gpt' in Node", process.execPath, ['--input-type=module', '-e', script], { cwd: app });

  // A browser bundle of the page example against the installed packages.
  const site = join(work, 'site');
  await build({
    root: app,
    configFile: false,
    base: './',
    logLevel: 'warn',
    build: { outDir: site, emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  });
  const assets = readdirSync(join(site, 'assets')).filter((f) => f.endsWith('.js'));
  if (assets.length === 0) throw new Error('the browser bundle has no script');
  console.log(`pack-check: browser bundle of @mini/gpt built (${assets.length} scripts)`);
} catch (e) {
  console.error(`pack-check: ${e.message}`);
  process.exitCode = 1;
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`pack-check: kept ${work}`);
}
