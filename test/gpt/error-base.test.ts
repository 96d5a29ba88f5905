// Every error mini-gpt throws on purpose shares one base carrying the CLI's exit code, so the CLI
// picks the code from the error rather than from its name.
import * as A from '@mini/autograd';
import * as G from '@mini/gpt';
import * as GN from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { describe, expect, it } from 'vitest';

const errorClasses = (mod: Record<string, unknown>) =>
  Object.entries(mod).filter(
    (e): e is [string, new (...args: never[]) => Error] =>
      e[0].endsWith('Error') &&
      typeof e[1] === 'function' &&
      (e[1] as { prototype?: unknown }).prototype instanceof Error,
  );

describe('error base', () => {
  it('every exported error class of every package extends MiniGptError', () => {
    const all = [...errorClasses(T), ...errorClasses(A), ...errorClasses(G), ...errorClasses(GN)];
    expect(all.length).toBeGreaterThanOrEqual(15);
    for (const [name, cls] of all) {
      expect(cls.prototype instanceof T.MiniGptError || cls === T.MiniGptError, name).toBe(true);
    }
  });

  it('usage errors exit 2, the rest 1', () => {
    expect(new G.ConfigError('bad config').exitCode).toBe(2);
    expect(new T.ShapeError('bad shape').exitCode).toBe(1);
    expect(new T.DeviceError('no device').exitCode).toBe(1);
  });
});
