// Fused against unfused attention (issue 16), forward and backward with dropout 0.1 as in
// training, on one device: the median time of a step and the most bytes its tensors held at
// once beyond q, k, v (the backend's peak-bytes counter). Two shapes: gpt2-xl's at a long
// context (1 x 25 heads x 1024 tokens x head size 64), where the unfused path stores the (B, nh,
// T, T) scores, weights and dropped weights (105 MB each) and their gradients, and one layer of
// the book's training step (2 x 12 heads x 256 tokens x 64). The fused path stores the output,
// the rows' log-sum-exp and the gradients of q, k, v.
import * as A from '@mini/autograd';
import * as T from '@mini/tensor/node';

const SHAPES = [
  ['attention_xl_1024', [1, 25, 1024, 64]],
  ['attention_book_256', [2, 12, 256, 64]],
];

function step(device, [B, nh, Tn, hd], fused) {
  const g = new T.Generator(1);
  const [q, k, v] = [0, 1, 2].map(() => A.parameter(T.randn([B, nh, Tn, hd], { device, generator: g })));
  const backend = device.backend;
  backend.resetPeakBytes();
  const before = backend.liveBytes();
  const grads = T.tidy(() => {
    let y;
    if (fused) {
      y = A.attention(q, k, v, { dropout: 0.1, generator: g });
    } else {
      const scores = A.mulScalar(A.matmul(q, k, { transB: true }), 1 / Math.sqrt(hd)); // (B, nh, T, T)
      y = A.matmul(A.dropout(A.softmax(scores, { causal: true }), 0.1, g), v);
    }
    y.backward(T.ones(y.shape, { device }));
    return [q.grad, k.grad, v.grad];
  });
  return { grads, params: [q, k, v], peak: backend.peakBytes() - before };
}

/** Reports each shape's step time and peak bytes, unfused then fused, on `device`. */
export async function attentionLines(report, device, backend, reps) {
  for (const [name, shape] of SHAPES)
    for (const fused of [false, true]) {
      const times = [];
      let peak = 0;
      for (let i = 0; i <= reps; i++) {
        const started = performance.now();
        const { grads, params, peak: bytes } = step(device, shape, fused);
        await grads[0].toArray();
        if (i > 0) times.push((performance.now() - started) / 1000);
        peak = Math.max(peak, bytes);
        for (const t of grads) t.dispose();
        for (const p of params) {
          p.zeroGrad();
          p.data.dispose();
        }
      }
      const s = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
      const what = fused ? 'fused' : 'unfused';
      const [B, nh, Tn, hd] = shape;
      report(
        `${name}_${what}_step`,
        backend,
        s * 1000,
        'ms',
        `forward + backward, B ${B}, ${nh} heads, T ${Tn}, hd ${hd}, dropout 0.1`,
      );
      report(`${name}_${what}_peak`, backend, peak / 2 ** 20, 'MiB', 'tensor bytes held at once beyond q, k, v');
    }
}
