// Builds the optional native CPU kernels (packages/tensor/native, a Node-API addon) with
// node-gyp and the system C compiler. Never fails the install: without a compiler, Node
// headers or an x86-64 CPU the fast CPU device keeps its WebAssembly kernels, and this prints
// one line saying so. MINI_GPT_NATIVE=0 skips the build (and the addon, at run time).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const directory = join(root, 'packages/tensor/native');

/** node-gyp: the one npm runs scripts with, else the copy bundled with npm beside this Node. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p)) ?? null;
}

/** Node's headers installed beside this Node (distribution tarballs and Debian's nodejs ship them): no download. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return null;
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : null;
}

if (process.env.MINI_GPT_NATIVE === '0') {
  console.log('native kernels: not built (MINI_GPT_NATIVE=0); the CPU device uses its WebAssembly kernels');
  process.exit(0);
}
const gyp = nodeGyp();
if (!gyp) {
  console.log('native kernels: not built (node-gyp not found); the CPU device uses its WebAssembly kernels');
  process.exit(0);
}
const dir = nodeDir();
try {
  execFileSync(process.execPath, [gyp, 'rebuild', '--release', ...(dir ? [`--nodedir=${dir}`] : [])], {
    cwd: directory,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  console.log('native kernels: built packages/tensor/native/build/Release/mini_gpt_native.node');
} catch (e) {
  const stderr = String(e.stderr ?? e.message)
    .trim()
    .split('\n')
    .filter((l) => /error/i.test(l))
    .slice(0, 3)
    .join(' | ');
  rmSync(join(directory, 'build'), { recursive: true, force: true });
  console.log(
    `native kernels: not built (${stderr || 'node-gyp failed'}); the CPU device uses its WebAssembly kernels`,
  );
}
