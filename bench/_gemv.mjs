import * as T from '@mini/tensor/node';
const cpu = await T.getDevice('cpu');
const dtype = process.argv[2] ?? 'bfloat16';
const shapes = [
  [768, 2304, false],
  [768, 768, false],
  [768, 3072, false],
  [3072, 768, false],
  [768, 50257, true],
];
for (const [K, N, transB] of shapes) {
  const copies = Math.max(2, Math.ceil(200e6 / (K * N * 2)));
  const bs = Array.from({ length: copies }, () => {
    const b = T.randn(transB ? [N, K] : [K, N], { device: cpu });
    const h = dtype === 'float32' ? b : b.astype(dtype);
    if (h !== b) b.dispose();
    return h;
  });
  const a = T.randn([1, K], { device: cpu });
  const run = () => {
    for (const b of bs) T.matmul(a, b, { transB }).dispose();
  };
  run();
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    run();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  const bytes = copies * K * N * (dtype === 'float32' ? 4 : 2);
  console.log(
    `1x${K}x${N}${transB ? ' (B transposed)' : ''} ${dtype}: ${(bytes / best / 1e9).toFixed(1)} GB/s, ${((best / copies) * 1e6).toFixed(0)} us a call`,
  );
  for (const b of bs) b.dispose();
}
