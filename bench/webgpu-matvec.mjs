// `node bench/webgpu-matvec.mjs`: decoding's matvec in its two layouts on one adapter
// (docs/webgpu-kernels.md, "The split-K matvec"): three devices in one process, the column
// layout (matvec.wgsl / matvec_fused.wgsl; `matvecSplitK: false`), the split-K layout
// (matvec_splitk.wgsl) with subgroups where offered, and split-K with subgroups off; each
// measured in the order columns, split-K, split-K plain, split-K plain, split-K, columns.
// Lines: `name  layout  ms  GB/s  note`: GPU milliseconds a call (timestamp queries; wall time
// where the device has none, said on the line) and the weight's bytes over that time, for
// - head_1x768x50257_f32: the tied head, 1 x 768 @ (50,257 x 768)^T (matmul's matvec path);
// - head_ln_1x768x50257_f32: the same with ln_f before it (decodeLinear: what decoding runs);
// - head_ln_1x768x50257_bf16: that with a bfloat16 head (packed words);
// - c_fc_ln_gelu_1x768x3072_f32: a block's LN -> c_fc -> GELU (plain (K, N) weight).
// An argument, a regular expression, keeps only the lines whose name matches it.
import * as T from '@mini/tensor/node';
import { kernelSeconds } from './webgpu-kernels.mjs';

const REPS = 2;
const columns = await T.getDevice({ kind: 'webgpu', matvecSplitK: false });
const splitK = await T.getDevice({ kind: 'webgpu', matvecSplitK: true });
const splitPlain = await T.getDevice({ kind: 'webgpu', matvecSplitK: true, subgroups: false });
const print = (name, which, ms, gbs, note) =>
  console.log(
    `${name.padEnd(28)} ${which.padEnd(14)} ${ms.toPrecision(4).padStart(9)} ms ${gbs.toPrecision(3).padStart(7)} GB/s  ${note}`,
  );

const g = () => new T.Generator(1);
const lnOf = (d, C) => ({ weight: T.ones([C], { device: d }), bias: T.zeros([C], { device: d }), eps: 1e-5 });
const head = (dtype) => (d) => {
  const w = T.mul(T.randn([50257, 768], { device: d, generator: g() }), 0.05);
  return [T.randn([1, 1, 768], { device: d, generator: g() }), dtype === 'float32' ? w : w.astype(dtype), lnOf(d, 768)];
};
const KERNELS = [
  ['head_1x768x50257_f32', 50257 * 768 * 4, head('float32'), (x, w) => T.matmul(x, w, { transB: true })],
  [
    'head_ln_1x768x50257_f32',
    50257 * 768 * 4,
    head('float32'),
    (x, w, n) => T.decodeLinear(x, w, { transB: true, norm: n }),
  ],
  [
    'head_ln_1x768x50257_bf16',
    50257 * 768 * 2,
    head('bfloat16'),
    (x, w, n) => T.decodeLinear(x, w, { transB: true, norm: n }),
  ],
  [
    'c_fc_ln_gelu_1x768x3072_f32',
    768 * 3072 * 4,
    (d) => [
      T.randn([1, 1, 768], { device: d, generator: g() }),
      T.randn([768, 3072], { device: d, generator: g() }),
      lnOf(d, 768),
    ],
    (x, w, n) => T.decodeLinear(x, w, { norm: n, gelu: true }),
  ],
];

const ORDER = [
  ['columns', columns],
  ['split-k', splitK],
  ['split-k plain', splitPlain],
  ['split-k plain', splitPlain],
  ['split-k', splitK],
  ['columns', columns],
];
const only = new RegExp(process.argv[2] ?? '.');
for (const [name, bytes, make, op] of KERNELS.filter(([name]) => only.test(name)))
  for (const [which, device] of ORDER) {
    const { seconds, clock } = await kernelSeconds(device, make, op, REPS);
    print(name, which, seconds * 1e3, bytes / seconds / 1e9, `${clock}; ${device.info.description}`);
  }
process.exit(0);
