// Lifetimes: reference-counted storage shared by views, dispose(), and tidy scopes.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor';

const live = () => T.cpu.backend.liveBytes();

describe('memory', () => {
  it('views keep storage alive until the last one is disposed', () => {
    const before = live();
    const x = T.zeros([256]);
    const r = x.reshape([16, 16]);
    const v = r.transpose();
    expect(live() - before).toBe(1024);
    x.dispose();
    r.dispose();
    expect(live() - before).toBe(1024);
    v.dispose();
    expect(live() - before).toBe(0);
  });

  it('tidy frees everything made inside except what it returns', () => {
    const before = live();
    const kept = T.tidy(() => {
      const a = T.ones([100]);
      const b = T.exp(a);
      return { result: T.add(a, b), note: 'plain values pass through' };
    });
    expect(live() - before).toBe(400);
    expect(kept.note).toBe('plain values pass through');
    kept.result.dispose();
    expect(live() - before).toBe(0);
  });

  it('keep() survives the scope; nested scopes hand results outwards', () => {
    const before = live();
    let kept: T.Tensor | null = null;
    const outer = T.tidy(() => {
      const inner = T.tidy(() => {
        kept = T.keep(T.ones([10]));
        T.ones([10]);
        return T.zeros([10]);
      });
      return T.add(inner, 1);
    });
    expect(live() - before).toBe(80);
    outer.dispose();
    kept!.dispose();
    expect(live() - before).toBe(0);
  });

  it('tidy refuses an async function', () => {
    expect(() => T.tidy(async () => T.ones([1]))).toThrow(/must be synchronous/);
  });

  it('a long loop of ops in tidy leaves live bytes flat', () => {
    const w = T.randn([8, 8]);
    const start = live();
    for (let i = 0; i < 300; i++) {
      T.tidy(() => {
        T.softmax(T.matmul(T.gelu(w), w, { transB: true }));
      });
    }
    expect(live()).toBe(start);
  });
});
