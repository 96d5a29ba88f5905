// `node bench/webgpu-subgroups.mjs`: the kernels with a subgroup version (docs/webgpu-kernels.md,
// "Subgroups") with and without subgroups on one adapter: two devices, the default (subgroups
// where offered) and one opened with `subgroups: false`, in one process, in ABBA order. Lines:
// - rows_<kernel>: GPU milliseconds a call (timestamp queries; wall time where the device has
//   none, said on the line) of softmax (3072 rows of 256: attention of one 256-token sequence,
//   12 heads), layer norm (512 rows of 768) and cross-entropy (512 rows of 50,257: a 124M
//   training step at batch 2 x 256);
// - matvec_quant_q8_1x3072x768: the q8_0 matvec (matvec_quant.wgsl) of a decoded token's MLP
//   projection;
// - generate_cache_narrow: cached greedy decoding of the 12-layer 12-head model at narrow
//   widths (embedDim 48, vocab 2000), tokens/s over 20 tokens after a warm-up.
// One line per measurement: `name  on|off  value unit  note`.
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
import { kernelSeconds } from './webgpu-kernels.mjs';

const REPS = 2;
const on = await T.getDevice({ kind: 'webgpu' });
const off = await T.getDevice({ kind: 'webgpu', subgroups: false });
const print = (name, which, value, unit, note) =>
  console.log(`${name.padEnd(24)} ${which.padEnd(4)} ${value.toPrecision(4).padStart(10)} ${unit}  ${note}`);

const g = () => new T.Generator(1);
const KERNELS = [
  ['rows_softmax_3072x256', (d) => [T.randn([3072, 256], { device: d, generator: g() })], (x) => T.softmax(x)],
  [
    'rows_layernorm_512x768',
    (d) => [
      T.randn([512, 768], { device: d, generator: g() }),
      T.ones([768], { device: d }),
      T.zeros([768], { device: d }),
    ],
    (x, w, b) => T.layerNorm(x, w, b).out,
  ],
  [
    'rows_cross_entropy_512x50257',
    (d) => [
      T.randn([512, 50257], { device: d, generator: g() }),
      T.tensor(Array.from(g().integers(512, 0, 50257)), { device: d, dtype: 'int32' }),
    ],
    (x, t) => T.crossEntropy(x, t).loss,
  ],
  [
    'matvec_quant_q8_1x3072x768',
    (d) => [
      T.randn([1, 3072], { device: d, generator: g() }),
      T.quantizeMatrix(
        'q8_0',
        Float32Array.from({ length: 768 * 3072 }, (_, i) => Math.sin(i)),
        768,
        3072,
        d,
      ),
    ],
    (a, q) => T.matmulQuantized(a, q),
  ],
];

// ABBA order (on, off, off, on): a load that drifts during the run biases neither.
const ABBA = [
  ['on', on],
  ['off', off],
  ['off', off],
  ['on', on],
];
for (const [name, make, op] of KERNELS)
  for (const [which, device] of ABBA) {
    const { seconds, clock } = await kernelSeconds(device, make, op, REPS);
    print(name, which, seconds * 1e3, 'ms', `${clock}; ${device.info.description}`);
  }

const narrow = G.resolveConfig('gpt2-small', { ...G.BOOK_CONFIG_OVERRIDES, embedDim: 48, vocabSize: 2000 });
for (const [which, device] of ABBA) {
  const model = G.GPTModel.create(narrow, { device, seed: 123 });
  const prompt = [3, 1, 4, 1];
  await G.generate(model, prompt, { maxNewTokens: 2 });
  const tokens = 20;
  const t = performance.now();
  await G.generate(model, prompt, { maxNewTokens: tokens });
  const rate = tokens / ((performance.now() - t) / 1000);
  print('generate_cache_narrow', which, rate, 'tokens/s', `${tokens} tokens; ${device.info.description}`);
  model.dispose();
}
process.exit(0);
