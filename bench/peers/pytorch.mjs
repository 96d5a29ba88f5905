// PyTorch beside `npm run bench` (issue 16): runs bench/pytorch_*.py with a Python that has
// torch (MINI_GPT_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH) and, where one
// is found, OpenBLAS as its BLAS (Debian's torch otherwise calls the reference BLAS, about 20
// times slower): MINI_GPT_OPENBLAS_DIR, else Debian's libopenblas0-pthread folder.
// Each function returns null (with the reason on stderr) where no Python with torch runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
const OPENBLAS_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-pthread', '/usr/lib/aarch64-linux-gnu/openblas-pthread'];

function openblasDir() {
  const dirs = [process.env.MINI_GPT_OPENBLAS_DIR, ...OPENBLAS_DIRS].filter(Boolean);
  return dirs.find((d) => existsSync(join(d, 'libblas.so.3'))) ?? null;
}

/**
 * Runs bench/<script> with `args` under the first Python with torch; returns the process
 * ({ stdout, status }) or null. `inherit`: its output goes to this terminal (a long run's progress).
 */
export function runPytorch(script, args, { what, inherit = false } = {}) {
  const pythons = [process.env.MINI_GPT_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  const blas = openblasDir();
  const env = {
    ...process.env,
    ...(blas ? { LD_LIBRARY_PATH: [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {}),
  };
  let reason = 'no python3 found';
  for (const python of pythons) {
    const run = spawnSync(python, [join(BENCH, script), ...args], {
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      stdio: ['ignore', inherit ? 'inherit' : 'pipe', 'pipe'],
    });
    if (run.error) continue;
    if (run.status === 0) return run;
    reason = run.stderr.trim().split('\n').pop() || `${python} exited with ${run.status}`;
    if (run.status !== 2) break; // torch was there and failed: say why rather than try another Python
  }
  process.stderr.write(`PyTorch peer (${what}) skipped: ${reason}\n`);
  return null;
}

/** The last line of a peer's stdout, as JSON. */
const lastJson = (run) => JSON.parse(run.stdout.trim().split('\n').pop());

/** { seconds, tokensPerSecond, threads, torch, blas, peakRssMB } of PyTorch's training step, or null. */
export function pytorchTrainStep({ steps = 3 } = {}) {
  const run = runPytorch('pytorch_step.py', ['--steps', String(steps)], { what: 'training step' });
  return run && lastJson(run);
}

/** { seconds, tokensPerSecond, threads, torch, blas, ids } of PyTorch's cached greedy decoding, or null. */
export function pytorchGenerate({ promptIds, tokens = 50, runs = 1 }) {
  const run = runPytorch(
    'pytorch_generate.py',
    ['--prompt-ids', promptIds.join(','), '--tokens', String(tokens), '--runs', String(runs)],
    { what: 'cached generation' },
  );
  return run && lastJson(run);
}
