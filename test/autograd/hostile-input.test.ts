// Untyped callers of the autograd ops: a non-Variable argument is one ValueError naming the op,
// the argument and the value, never "reading 'data'" from inside. On both CPU backends.
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor';
import { devicesUnderTest } from '../helpers/devices.js';

// biome-ignore lint/suspicious/noExplicitAny: the point is input the types would refuse
const any = (v: unknown): any => v;

describe.each(await devicesUnderTest())('autograd ops on hostile input on $name', ({ device }) => {
  it('a non-Variable argument names the op, the argument and the value', () => {
    const v = new A.Variable(T.ones([2, 2], { device }), true);
    expect(() => A.add(v, any(undefined))).toThrow(T.ValueError);
    expect(() => A.add(v, any(undefined))).toThrow(/add: b must be a Variable, got undefined/);
    expect(() => A.add(any(1), v)).toThrow(/add: a must be a Variable, got the number 1/);
    expect(() => A.matmul(any(null), v)).toThrow(/matmul: a must be a Variable, got null/);
    expect(() => A.matmul(v, any(v.data))).toThrow(/b must be a Variable, got a Tensor \(wrap it: new Variable\(t\)\)/);
    expect(() => A.exp(any(undefined))).toThrow(/exp: x must be a Variable, got undefined/);
    expect(() => A.sum(any([1, 2]))).toThrow(/sum: x must be a Variable, got an array/);
    expect(() => A.reshape(any('x'), [4])).toThrow(/reshape: x must be a Variable, got the string "x"/);
    expect(A.add(v, v).shape).toEqual([2, 2]);
  });
});
