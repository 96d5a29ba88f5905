// Tensors larger than one storage binding. GPT-2's token embedding (154 MB) exceeds llvmpipe's
// 128 MiB maxStorageBufferBindingSize; here the limit is lowered to 4352 bytes (1024 floats
// plus one 256-byte alignment step) so that small tensors exercise every splitting path.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const LIMIT = 4096 + 256;
const gpu = await webgpuForTests({ maxBindingBytes: LIMIT });
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}, storage bindings limited to ${LIMIT} bytes`);

const TOL = { atol: 1e-5, rtol: 1e-5 };

describe.runIf(gpu)('ops on tensors larger than one storage binding', () => {
  it('the limit is really lowered', () => {
    const backend = gpu!.backend as unknown as { maxBindingBytes: number };
    expect(backend.maxBindingBytes).toBe(LIMIT);
  });
  it('embedding gather and scatter-add from a split table', async () => {
    // table 300 x 20 floats = 24 000 bytes: 6 row ranges.
    await expectParity(
      gpu!,
      (device, g) =>
        T.embedding(T.randn([300, 20], { device, generator: g }), T.randint(0, 300, [2, 40], { device, generator: g })),
      { atol: 0, rtol: 0 },
      'gather',
    );
    await expectParity(
      gpu!,
      (device, g) =>
        T.embeddingBackward(
          T.randn([80, 20], { device, generator: g }),
          T.randint(0, 300, [80], { device, generator: g }),
          300,
        ),
      TOL,
      'scatter-add',
    );
  });
  it('matmul against a split weight (tied output head: x @ wte^T), and its backward products', async () => {
    await expectParity(
      gpu!,
      (device, g) =>
        T.matmul(T.randn([2, 7, 20], { device, generator: g }), T.randn([300, 20], { device, generator: g }), {
          transB: true,
        }),
      TOL,
      'x @ wte^T',
    );
    // d wte = dlogits^T @ x: a (300, 20) result from a transposed (14, 300) operand.
    await expectParity(
      gpu!,
      (device, g) =>
        T.matmul(T.randn([14, 300], { device, generator: g }), T.randn([14, 20], { device, generator: g }), {
          transA: true,
        }),
      TOL,
      'dlogits^T @ x',
    );
    // dx = dlogits @ wte, K = 300 split into accumulated parts, with a bias on the first part only.
    await expectParity(
      gpu!,
      (device, g) =>
        T.matmul(T.randn([14, 300], { device, generator: g }), T.randn([300, 20], { device, generator: g }), {
          bias: T.randn([20], { device, generator: g }),
        }),
      TOL,
      'dlogits @ wte + bias',
    );
    await expectParity(
      gpu!,
      (device, g) =>
        T.matmul(T.randn([3, 40, 50], { device, generator: g }), T.randn([3, 50, 40], { device, generator: g })),
      TOL,
      'batched, split by batch',
    );
  });
  it('16-bit weights bound in windows: x @ wte^T, x @ W from a row offset, the gather', async () => {
    for (const dtype of ['float16', 'bfloat16'] as const) {
      // 300 x 20 halves = 12 000 bytes: windows start mid-tensor at word-aligned (even) elements.
      await expectParity(
        gpu!,
        (device, g) =>
          T.matmul(
            T.randn([2, 7, 20], { device, generator: g }),
            T.randn([300, 20], { device, generator: g }).astype(dtype),
            { transB: true },
          ),
        TOL,
        `x @ wte^T (${dtype})`,
      );
      await expectParity(
        gpu!,
        (device, g) =>
          T.matmul(
            T.randn([5, 301], { device, generator: g }),
            T.randn([302, 21], { device, generator: g }).astype(dtype).slice(0, 1),
            { bias: T.randn([21], { device, generator: g }) },
          ),
        TOL,
        `x @ W[1:] + bias (${dtype}, odd offset)`,
      );
      await expectParity(
        gpu!,
        (device, g) =>
          T.embedding(
            T.randn([301, 21], { device, generator: g }).astype(dtype),
            T.randint(0, 301, [2, 40], { device, generator: g }),
          ),
        { atol: 0, rtol: 0 },
        `gather (${dtype})`,
      );
    }
  });
  it('row kernels, reductions and elementwise ops split by rows', async () => {
    await expectParity(
      gpu!,
      (device, g) => {
        const logits = T.randn([30, 300], { device, generator: g });
        const targets = T.randint(0, 300, [30], { device, generator: g });
        const r = T.crossEntropy(logits, targets);
        return [r.loss, T.crossEntropyBackward(logits, targets, r, T.ones([], { device }))];
      },
      TOL,
      'cross-entropy',
    );
    await expectParity(
      gpu!,
      (device, g) => T.softmax(T.randn([3, 30, 30], { device, generator: g }), { causal: true }),
      TOL,
      'causal softmax',
    );
    await expectParity(
      gpu!,
      (device, g) => {
        const x = T.randn([60, 100], { device, generator: g });
        const w = T.randn([100], { device, generator: g });
        const r = T.layerNorm(x, w, T.zeros([100], { device }));
        const d = T.layerNormBackward(T.randn([60, 100], { device, generator: g }), x, w, r.mean, r.rstd);
        return [r.out, d.dx, d.dweight, d.dbias];
      },
      { atol: 5e-5, rtol: 5e-5 },
      'layer norm',
    );
    await expectParity(
      gpu!,
      (device, g) => [
        T.sum(T.randn([5000], { device, generator: g })),
        T.mean(T.randn([3, 2000], { device, generator: g }), 1),
        T.max(T.randn([2, 1500, 2], { device, generator: g }), 1),
      ],
      { atol: 2e-4, rtol: 1e-5 },
      'reductions',
    );
    await expectParity(
      gpu!,
      (device, g) =>
        T.add(
          T.randn([3000], { device, generator: g }),
          T.randn([7, 1, 3000], { device, generator: g }).slice(0, 2, 5),
        ),
      { atol: 0, rtol: 1.2e-7 },
      'add',
    );
    await expectParity(
      gpu!,
      (device, g) => T.randn([50, 90], { device, generator: g }).transpose().contiguous(),
      { atol: 0, rtol: 0 },
      'transpose copy',
    );
    await expectParity(gpu!, (device) => T.full([3000], 2, { device }), { atol: 0, rtol: 0 }, 'fill');
  });
  it('dropout and AdamW over split parameters', async () => {
    await expectParity(
      gpu!,
      (device, g) => T.dropout(T.randn([2501], { device, generator: g }), 0.4, g).out,
      { atol: 0, rtol: 3e-7 },
      'dropout',
    );
    await expectParity(
      gpu!,
      (device, g) => {
        const param = T.randn([2500], { device, generator: g });
        const m = T.zeros([2500], { device });
        const v = T.zeros([2500], { device });
        T.adamwUpdate(param, T.randn([2500], { device, generator: g }), m, v, {
          lr: 1e-3,
          beta1: 0.9,
          beta2: 0.95,
          eps: 1e-8,
          weightDecay: 0.1,
          step: 1,
        });
        return [param, m, v];
      },
      { atol: 1e-7, rtol: 2e-6 },
      'adamw',
    );
  });

  it('multi-tensor AdamW: windows of one flat buffer (overlapping once aligned), an entry larger than a window', async () => {
    // Views of 500 floats at offsets 0, 500, ... of 3000-float buffers: each is bound as a
    // window aligned down to 256 bytes, so neighbours' windows overlap and must not share a
    // dispatch; the 2500-float entry exceeds one window and goes through the one-tensor kernel.
    const run = async (many: boolean) => {
      const g = new T.Generator(5);
      const device = gpu!;
      const [pf, mf, vf] = [0, 1, 2].map(() => T.randn([3000], { device, generator: g, std: 0.1 }));
      const views = (flat: T.Tensor) => [0, 1, 2, 3, 4, 5].map((k) => flat.slice(0, 500 * k, 500 * (k + 1)));
      const [ps, ms, vs] = [pf!, mf!, vf!].map(views);
      ps!.push(T.randn([2500], { device, generator: g }));
      ms!.push(T.zeros([2500], { device }));
      vs!.push(T.zeros([2500], { device }));
      const grads = ps!.map((p) => T.randn(p.shape, { device, generator: g }));
      const entries = ps!.map((param, i) => ({
        param,
        grad: grads[i]!,
        m: ms![i]!,
        v: vs![i]!,
        weightDecay: i % 2 ? 0 : 0.1,
      }));
      const step = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 2 };
      if (many) T.adamwUpdateMany(entries, step);
      else for (const e of entries) T.adamwUpdate(e.param, e.grad, e.m, e.v, { ...step, weightDecay: e.weightDecay });
      const out = await Promise.all(
        [pf!, mf!, vf!, ps![6]!, ms![6]!, vs![6]!].map(async (t) => [...(await t.toArray())]),
      );
      for (const t of [pf!, mf!, vf!, ...ps!, ...ms!, ...vs!, ...grads]) t.dispose();
      return out;
    };
    expect(await run(true)).toEqual(await run(false));
  });
});
