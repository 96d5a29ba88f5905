#!/usr/bin/env node
// node bench/ceilings.mjs [--json]: the ceilings the native-kernels decision rests on, one
// figure per line. Per core, in CPU time (this machine is shared; wall time would measure the
// other processes too): the fused multiply-add peak of WebAssembly SIMD-128 (relaxed madd, and
// plain mul + add), of native AVX2+FMA and of AVX-512 (bench/ceilings/fma-peak.c, built here
// with the system compiler); the memory read bandwidth, which bounds decoding (wall time, so
// on a quiet machine only: bench/ceilings/read-bandwidth.c); the first write into fresh memory with
// 4 kB and with huge pages, which bounds loading a model (bench/ceilings/first-touch.c); then the
// fast CPU backend's matmul at the GPT-2 step's shapes on
// one thread, native and WebAssembly, as GFLOP/s and as a share of the matching ceiling.
// Also called by `npm run bench` (ceilingLines).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@mini/tensor/node';

const here = dirname(fileURLToPath(import.meta.url));

/** CPU seconds this process spends in fn (the kernels run on this thread: one thread here). */
function cpuSeconds(fn) {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** GFLOP/s per core of the WebAssembly SIMD-128 madd chains, relaxed (fused) and plain builds. */
function wasmPeaks(work) {
  const asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin/asc.js');
  const out = {};
  for (const [name, features] of [
    ['relaxed', 'simd,relaxed-simd'],
    ['plain', 'simd'],
  ]) {
    const file = join(work, `peak-${name}.wasm`);
    execFileSync(
      process.execPath,
      [
        asc,
        join(here, 'ceilings/fma-peak.as.ts'),
        '--outFile',
        file,
        '--optimizeLevel',
        '3',
        '--runtime',
        'stub',
        '--enable',
        features,
        '--noAssert',
      ],
      { stdio: 'inherit' },
    );
    const { peak } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file))).exports;
    const iterations = 20_000_000;
    peak(iterations / 10);
    const s = Math.min(...[0, 1, 2].map(() => cpuSeconds(() => peak(iterations))));
    out[name] = (2 * 4 * 12 * iterations) / s / 1e9;
  }
  return out;
}

/** GFLOP/s per core of AVX2+FMA and AVX-512 chains, or {} without a C compiler. */
function nativePeaks(work) {
  const binary = join(work, 'fma-peak');
  try {
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', binary, join(here, 'ceilings/fma-peak.c')], { stdio: 'pipe' });
  } catch {
    return {};
  }
  const runs = [0, 1, 2].map(() =>
    Object.fromEntries(
      execFileSync(binary, { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([k, v]) => [k, Number(v)]),
    ),
  );
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, Math.max(...runs.map((r) => r[k]))]));
}

/** Memory read bandwidth, GB/s, on 1 .. `threads` threads (bench/ceilings/read-bandwidth.c; wall time), or {} without a C compiler. */
function readBandwidth(work, threads) {
  const binary = join(work, 'read-bandwidth');
  try {
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-pthread', '-o', binary, join(here, 'ceilings/read-bandwidth.c')], {
      stdio: 'pipe',
    });
  } catch {
    return {};
  }
  return Object.fromEntries(
    execFileSync(binary, [String(threads)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(' ').map(Number)),
  );
}

/**
 * GB/s of the first write into fresh memory, with 4 kB pages and with huge pages asked for
 * (bench/ceilings/first-touch.c), or {} without a C compiler or off Linux.
 */
function firstTouch(work) {
  const binary = join(work, 'first-touch');
  try {
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', binary, join(here, 'ceilings/first-touch.c')], {
      stdio: 'pipe',
    });
  } catch {
    return {};
  }
  return Object.fromEntries(
    execFileSync(binary, ['3'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([pages, gbs]) => [pages, Number(gbs)]),
  );
}

// The training step's products (B*T = 512 rows; C = 768): forward, and the two backward products.
const SHAPES = [
  ['qkv 512x768x2304', 512, 768, 2304, false, false],
  ['fc 512x768x3072', 512, 768, 3072, false, false],
  ['proj 512x3072x768', 512, 3072, 768, false, false],
  ['dX 512x2304x768 (B transposed)', 512, 2304, 768, false, true],
  ['dW 768x512x2304 (A transposed)', 768, 512, 2304, true, false],
  ['lm head 512x768x50257 (B transposed)', 512, 768, 50257, false, true],
];

/** GFLOP/s of one thread's matmul on `device` at each shape (CPU time; best of 3). */
function sgemmFigures(device) {
  return SHAPES.map(([name, M, K, N, transA, transB]) => {
    const a = T.randn(transA ? [K, M] : [M, K], { device });
    const b = T.randn(transB ? [N, K] : [K, N], { device });
    T.matmul(a, b, { transA, transB }).dispose();
    const s = Math.min(...[0, 1, 2].map(() => cpuSeconds(() => T.matmul(a, b, { transA, transB }).dispose())));
    a.dispose();
    b.dispose();
    return [name, (2 * M * N * K) / s / 1e9];
  });
}

export async function ceilingLines(report) {
  const work = mkdtempSync(join(tmpdir(), 'mini-gpt-ceilings-'));
  try {
    const wasm = wasmPeaks(work);
    const native = nativePeaks(work);
    report(
      'fma_peak_per_core',
      'wasm-relaxed-simd',
      wasm.relaxed,
      'GFLOP/s',
      'f32x4.relaxed_madd, 12 chains, CPU time',
    );
    report('fma_peak_per_core', 'wasm-simd', wasm.plain, 'GFLOP/s', 'f32x4.mul + f32x4.add');
    for (const [isa, value] of Object.entries(native))
      report('fma_peak_per_core', isa, value, 'GFLOP/s', isa === 'avx2' ? '256-bit FMA' : '512-bit FMA');
    if (!Object.keys(native).length) process.stderr.write('no C compiler (cc): native ceilings skipped\n');
    // Decoding reads every weight once a token: its matvecs are bound by this, not by FMAs.
    for (const [threads, gbs] of Object.entries(
      readBandwidth(work, (await import('node:os')).availableParallelism()),
    )) {
      report(
        'read_bandwidth',
        `${threads}-thread${threads === '1' ? '' : 's'}`,
        gbs,
        'GB/s',
        "1 GiB summed with 256-bit loads, best of 5, wall time: the ceiling of decoding's matvecs",
      );
    }
    // Loading writes every weight into fresh heap memory: page faults bound it (huge pages: NativeKernels.hugePages).
    for (const [pages, gbs] of Object.entries(firstTouch(work)))
      report(
        'first_touch',
        pages === '4k' ? '4k-pages' : 'huge-pages',
        gbs,
        'GB/s',
        `512 MiB of fresh memory, first write (memset), ${pages === '4k' ? '4 kB pages' : 'madvise MADV_HUGEPAGE'}, best of 3`,
      );
    // One thread: the ceilings are per core. Backends made here, without the worker threads.
    T.setParallelRunnerFactory(null);
    // Each instruction set the addon has for this CPU (its choice is process-wide: one at a time), then WebAssembly.
    const chosen = T.nativeStatus();
    const runs = ['avx512', 'avx2']
      .map((isa) => [isa, chosen.kernels ? T.loadNativeKernels({ MINI_GPT_NATIVE_ISA: isa }) : null])
      .filter(([, s]) => s?.kernels);
    for (const [isa, status] of [...runs, ['wasm', { kernels: null }]]) {
      T.setNativeKernels(status);
      const device = new T.Device(T.createFastCpuBackend(), { kind: 'cpu', description: isa });
      const [backend, ceiling] = isa === 'wasm' ? ['wasm', wasm.relaxed] : [`native-${isa}`, native[isa]];
      for (const [name, gflops] of sgemmFigures(device)) {
        report(
          `sgemm_1_thread ${name}`,
          backend,
          gflops,
          'GFLOP/s',
          ceiling ? `${((100 * gflops) / ceiling).toFixed(0)} % of its ceiling` : '',
        );
      }
    }
    if (chosen.kernels) T.loadNativeKernels(); // back to the default instruction set
    T.setNativeKernels(chosen);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes('--json');
  const { loadavg } = await import('node:os');
  await ceilingLines((name, backend, value, unit, note = '') => {
    if (json)
      process.stdout.write(
        `${JSON.stringify({ name, backend, value: Number(value.toPrecision(4)), unit, ...(note ? { note } : {}) })}\n`,
      );
    else
      process.stdout.write(`${name} ${backend}: ${Number(value.toPrecision(4))} ${unit}${note ? ` (${note})` : ''}\n`);
  });
  process.stdout.write(
    `load_average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
}
