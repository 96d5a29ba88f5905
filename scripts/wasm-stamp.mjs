// What the two WebAssembly builds (build-wasm.mjs: the kernels; build-wasm-rng.mjs: MT19937) share:
// the AssemblyScript compiler's path, and the stamp that skips a build when nothing it reads has
// changed (the compiler takes tens of seconds and every test run starts with these scripts).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** AssemblyScript's command-line entry (the dev dependency; nothing is downloaded). */
export const asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin/asc.js');

/**
 * The stamp of a build: a hash of every file in `sourceDir`, the build scripts `scripts` (names
 * in scripts/, this file always included) and the compiler's package.json. `previous` is the
 * generated file's text ('' when missing); `upToDate` says its second line is this stamp.
 */
export function buildStamp(sourceDir, scripts, target) {
  const hash = createHash('sha256');
  for (const f of readdirSync(sourceDir).sort()) hash.update(f).update(readFileSync(join(sourceDir, f)));
  for (const f of [...scripts, 'wasm-stamp.mjs']) hash.update(readFileSync(join(root, 'scripts', f)));
  hash.update(readFileSync(join(dirname(asc), '..', 'package.json')));
  const stamp = `// sources: ${hash.digest('hex')}`;
  let previous = '';
  try {
    previous = readFileSync(target, 'utf8');
  } catch {}
  return { stamp, previous, upToDate: previous.split('\n', 2)[1] === stamp };
}
