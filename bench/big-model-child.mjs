// One measured `generate` for bench/big-models.mjs, in its own process: node big-model-child.mjs
// <model dir> <dtype> <tokens>. Prints one JSON line: load seconds, first token (seconds since
// the process started), decode tokens/s after the first token, peak RSS (MB), which heap and
// Node, and the bytes of tensors outside the heap (which every matmul copies in).
// With a fourth argument <out dir>: loads the model as <dtype> (int8, int4: quantizing as it
// loads), saves it there (mini-gpt convert) and prints {convertSeconds, peakRssMB} instead.
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

const [dir, dtype, tokens, convertTo] = process.argv.slice(2);
const device = await T.getDevice('cpu');
if (convertTo) {
  const start = performance.now();
  const model = await G.loadModel(dir, device, { dtype });
  await G.saveModel(convertTo, model);
  const convertSeconds = (performance.now() - start) / 1000;
  process.stdout.write(`${JSON.stringify({ convertSeconds, peakRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
  process.exit(0);
}
const t0 = performance.now();
const model = await G.loadModel(dir, device, { dtype });
const loadSeconds = (performance.now() - t0) / 1000;
const times = [];
for await (const _ of G.generateTokens(model, G.textToIds('Every effort moves you'), {
  maxNewTokens: Number(tokens),
  temperature: 0,
}))
  times.push(performance.now());
const decodeTokensPerSecond = (times.length - 1) / ((times.at(-1) - times[0]) / 1000);
// performance.now() counts from the process's time origin: the first token "from the command's start".
process.stdout.write(
  `${JSON.stringify({
    loadSeconds,
    firstTokenSeconds: times[0] / 1000,
    decodeTokensPerSecond,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    kernels: T.nativeStatus().summary,
    node: process.version,
    outsideHeapMB: device.backend.outsideHeapBytes() / 1e6,
    heap: `${device.backend.addressing} heap, ${(device.backend.heapBytes() / 1e9).toFixed(2)} GB`,
  })}\n`,
);
model.dispose();
