// PyTorch's training step beside ours (issue 16): runs bench/pytorch_step.py with a Python
// that has torch (MINI_GPT_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH) and,
// where one is found, OpenBLAS as its BLAS (Debian's torch otherwise calls the reference BLAS,
// about 20 times slower): MINI_GPT_OPENBLAS_DIR, else Debian's libopenblas0-pthread folder.
// Returns null (with the reason on stderr) where no Python with torch runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'pytorch_step.py');
const OPENBLAS_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-pthread', '/usr/lib/aarch64-linux-gnu/openblas-pthread'];

function openblasDir() {
  const dirs = [process.env.MINI_GPT_OPENBLAS_DIR, ...OPENBLAS_DIRS].filter(Boolean);
  return dirs.find((d) => existsSync(join(d, 'libblas.so.3'))) ?? null;
}

/** { seconds, tokensPerSecond, threads, torch, blas, peakRssMB } of PyTorch's step, or null. */
export function pytorchTrainStep({ steps = 3 } = {}) {
  const pythons = [process.env.MINI_GPT_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  const blas = openblasDir();
  const env = { ...process.env, ...(blas ? { LD_LIBRARY_PATH: [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {}) };
  let reason = 'no python3 found';
  for (const python of pythons) {
    const run = spawnSync(python, [SCRIPT, '--steps', String(steps)], { env, encoding: 'utf8', maxBuffer: 1 << 20 });
    if (run.error) continue;
    if (run.status === 0) return JSON.parse(run.stdout.trim().split('\n').pop());
    reason = (run.stderr.trim().split('\n').pop() || `${python} exited with ${run.status}`);
    if (run.status !== 2) break; // torch was there and failed: say why rather than try another Python
  }
  process.stderr.write(`PyTorch peer skipped: ${reason}\n`);
  return null;
}
