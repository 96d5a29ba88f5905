// Run by test/tensor/memory64.test.ts under Node 24 (tools/node24): the fast CPU backend on a
// WebAssembly memory64 heap, with its operands placed past 4 GiB (after 4 GiB of untouched
// filler tensors, which take address space, not memory), against the CPU reference. Prints one
// JSON line: the heap's addressing, the device description, the lowest operand address, and the
// largest |difference| per kernel. Imports the built packages (npm ci / tsc -b builds them).
import * as T from '@mini/tensor/node';

const backend = T.createFastCpuBackend();
backend.reserve(5 * 2 ** 30); // more than a wasm32 heap holds: memory64 where the runtime has it
const device = new T.Device(backend, { kind: 'cpu', description: backend.heapSummary() });
const fillers = Array.from({ length: 4 }, () => T.empty([2 ** 28], 'float32', device));
const lowest = [];

async function maxDiff(build) {
  const expected = [build(T.cpu)].flat();
  const actual = [build(device)].flat();
  let worst = 0;
  for (const [i, t] of actual.entries()) {
    const a = await t.toArray();
    const e = await expected[i].toArray();
    for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - e[j]));
  }
  return worst;
}

/** Operands for one case, made on `d` from a fixed seed; on the memory64 device their addresses are recorded. */
function operands(d, shapes, seed) {
  const g = new T.Generator(seed);
  const out = shapes.map((s) => T.randn(s, { device: d, generator: g }));
  if (d === device) for (const t of out) lowest.push(t.storage.pointer ?? NaN); // a HeapStorage: its byte address in the heap
  return out;
}

const results = {};
results.matmul = await maxDiff((d) => {
  const [a, b, bias] = operands(d, [[67, 300], [300, 129], [129]], 1);
  return T.matmul(a, b, { bias });
});
results.matmulTransposed = await maxDiff((d) => {
  const [a, b] = operands(
    d,
    [
      [40, 33],
      [70, 40],
    ],
    2,
  );
  return T.matmul(a, b, { transA: true, transB: true });
});
results.matvecFloat16 = await maxDiff((d) => {
  const [a, b] = operands(
    d,
    [
      [1, 520],
      [520, 301],
    ],
    3,
  );
  return T.matmul(a, b.astype('float16'));
});
results.matvecBfloat16 = await maxDiff((d) => {
  const [a, b] = operands(
    d,
    [
      [3, 260],
      [260, 77],
    ],
    4,
  );
  return T.matmul(a, b.astype('bfloat16'));
});
results.embeddingFloat16 = await maxDiff((d) => {
  const [table] = operands(d, [[50, 36]], 5);
  return T.embedding(table.astype('float16'), T.tensor([3, 49, 0, 3], { device: d, dtype: 'int32' }));
});
results.layerNorm = await maxDiff((d) => {
  const [x, w, b] = operands(d, [[9, 130], [130], [130]], 6);
  return T.layerNorm(x, w, b).out;
});
results.softmax = await maxDiff((d) => {
  const [x] = operands(d, [[7, 1001]], 7);
  return T.softmax(x);
});
results.gelu = await maxDiff((d) => {
  const [x] = operands(d, [[1003]], 8);
  return T.unaryOp('gelu', x);
});
results.transposeCopy = await maxDiff((d) => {
  const [x] = operands(d, [[2, 5, 3, 7]], 9);
  return x.transpose(1, 2).contiguous();
});
results.crossEntropy = await maxDiff((d) => {
  const [x] = operands(d, [[6, 257]], 10);
  return T.crossEntropy(x, T.tensor([0, 5, 256, 9, 9, 100], { device: d, dtype: 'int32' })).loss;
});
results.rand = await maxDiff((d) => {
  const t = T.rand([1003], { device: d, generator: new T.Generator(13), low: -1, high: 1 });
  if (d === device) lowest.push(t.storage.pointer ?? NaN);
  return t;
});
// Fused attention reads q, k, v through a header block in the heap: their 64-bit addresses
// (an int32 slot once wrapped them past 2 GiB and gpt2-xl float32 decoding on memory64 crashed).
results.attention = await maxDiff((d) => {
  const [q, k, v] = operands(
    d,
    [
      [1, 3, 5, 16],
      [1, 3, 9, 16],
      [1, 3, 9, 16],
    ],
    12,
  );
  const r = T.attention(q, k, v);
  return [r.out, r.lse];
});
results.attentionBackward = await maxDiff((d) => {
  const [q, k, v, dout] = operands(
    d,
    [
      [2, 2, 70, 8],
      [2, 2, 70, 8],
      [2, 2, 70, 8],
      [2, 2, 70, 8],
    ],
    13,
  );
  const options = { dropout: { p: 0.1, key: [7, 9], stream: 3 } };
  const r = T.attention(q, k, v, options);
  const g = T.attentionBackward(dout, q, k, v, r.out, r.lse, options);
  return [r.out, g.dq, g.dk, g.dv];
});
results.adamw = await maxDiff((d) => {
  const [p, grad] = operands(d, [[1003], [1003]], 11);
  const [m, v] = [T.zeros([1003], { device: d }), T.zeros([1003], { device: d })];
  for (let step = 1; step <= 2; step++)
    T.adamwUpdate(p, grad, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step });
  return [p, m, v];
});
process.stdout.write(
  `${JSON.stringify({
    node: process.version,
    addressing: backend.addressing,
    description: device.info.description,
    heapBytes: backend.heapBytes(),
    lowestOperand: Math.min(...lowest),
    results,
  })}\n`,
);
for (const t of fillers) t.dispose();
