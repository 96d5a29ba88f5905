import * as T from '@mini/tensor/node';
const cpu = await T.getDevice('cpu');
for (const [K, N, dtype] of [
  [16, 16, 'float32'],
  [16, 16, 'bfloat16'],
  [768, 768, 'float32'],
  [768, 768, 'bfloat16'],
]) {
  let b = T.randn([K, N], { device: cpu });
  if (dtype !== 'float32') b = b.astype(dtype);
  const a = T.randn([1, K], { device: cpu });
  for (let i = 0; i < 100; i++) T.matmul(a, b).dispose();
  const n = 3000,
    t = performance.now();
  for (let i = 0; i < n; i++) T.matmul(a, b).dispose();
  console.log(
    `1x${K}x${N} ${dtype} (same B, in cache): ${(((performance.now() - t) / n) * 1000).toFixed(1)} us a call`,
  );
}
