import * as T from '@mini/tensor/node';
const cpu = await T.getDevice('cpu');
// gpt2-xl decoding: per layer c_attn (K 1600, N 4800), attn.c_proj (1600,1600), c_fc (1600,6400), mlp.c_proj (6400,1600); head (1600, 50257)
const shapes = [
  [1600, 4800, 48],
  [1600, 1600, 48],
  [1600, 6400, 48],
  [6400, 1600, 48],
  [1600, 50257, 1],
];
const M = Number(process.argv[2] ?? 1);
const totals = {};
for (const fmt of ['f16', 'q8_0', 'q4_0']) {
  let perToken = 0;
  for (const [K, N, count] of shapes) {
    const copies = Math.max(2, Math.ceil(200e6 / (K * N)));
    const ws = Array.from({ length: copies }, () => {
      if (fmt === 'f16') {
        const b = T.randn([K, N], { device: cpu });
        const h = b.astype('float16');
        b.dispose();
        return h;
      }
      const host = new Float32Array(N * K).map(() => Math.random() - 0.5);
      return T.quantizeMatrix(fmt, host, N, K, cpu);
    });
    const a = T.randn([M, K], { device: cpu });
    const run = () => {
      for (const w of ws) (fmt === 'f16' ? T.matmul(a, w) : T.matmulQuantized(a, w)).dispose();
    };
    run();
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      run();
      best = Math.min(best, (performance.now() - t) / 1000);
    }
    const per = best / copies;
    perToken += per * count;
    const bytes = fmt === 'f16' ? K * N * 2 : T.quantizedBytes(fmt, N, K);
    console.log(`${fmt} M=${M} K=${K} N=${N}: ${(bytes / per / 1e9).toFixed(1)} GB/s, ${(per * 1e6).toFixed(0)} us`);
    for (const w of ws) w.dispose();
    a.dispose();
  }
  totals[fmt] = perToken;
  console.log(`${fmt}: xl matmuls per token ${(perToken * 1000).toFixed(1)} ms -> at most ${(1 / perToken).toFixed(1)} tokens/s`);
}
