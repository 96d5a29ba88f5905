// nextTask (packages/gpt/src/next-task.ts): the yield between decoded tokens, batches and steps.
// It must be a real macrotask (a Ctrl-C handler runs in it) and must not wait on a timer:
// setTimeout(0) cost at least 1 ms per decoded token in Node.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextTask } from '../../packages/gpt/src/next-task.js';

describe('nextTask', () => {
  afterEach(() => vi.useRealTimers());

  it('resolves without any timer firing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] }); // timers never fire unless advanced
    const settled = await Promise.race([
      nextTask().then(() => 'resolved'),
      new Promise((r) => setImmediate(() => setImmediate(() => r('pending')))),
    ]);
    expect(settled).toBe('resolved');
  });

  it('is a macrotask: what was queued before it on the event loop runs first, microtasks do not suffice', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('immediate queued before'));
    const waiting = nextTask().then(() => order.push('nextTask'));
    await Promise.resolve();
    order.push('microtask');
    await waiting;
    expect(order).toEqual(['microtask', 'immediate queued before', 'nextTask']);
  });

  it('uses a MessageChannel where there is no setImmediate (browsers)', async () => {
    const saved = globalThis.setImmediate;
    // @ts-expect-error: removed to stand for a browser's global scope
    delete globalThis.setImmediate;
    try {
      vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
      await expect(nextTask()).resolves.toBeUndefined();
    } finally {
      globalThis.setImmediate = saved;
    }
  });
});
