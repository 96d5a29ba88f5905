// Bad input from untyped callers: one clear MiniGptError naming the problem and the value, on
// both CPU backends, never a TypeError from inside, a wasm read past a buffer or a wrong result.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';

// biome-ignore lint/suspicious/noExplicitAny: the point is input the types would refuse
const any = (v: unknown): any => v;

describe.each(await devicesUnderTest())('hostile input on $name', ({ device, isReference }) => {
  const o = { device };

  it('every shape is checked in one place: safe integers >= 0 filling the data', () => {
    const data = new Float32Array(6);
    expect(() => T.tensor(data, { ...o, shape: [-2, -3] })).toThrow(T.ShapeError);
    expect(() => T.tensor(data, { ...o, shape: [-2, -3] })).toThrow(
      /tensor: invalid shape \[-2, -3\]: dimensions must be integers >= 0/,
    );
    expect(() => T.tensor(new Float32Array(1), { ...o, shape: [2 ** 31, 2 ** -31] })).toThrow(/invalid shape/);
    expect(() => T.tensor([1, 2, 3, 4, 5, 6], { ...o, shape: [2.5, 2.4] })).toThrow(/invalid shape \[2.5, 2.4\]/);
    expect(() => T.fromTypedArray(data, [2, 3.5], device)).toThrow(/invalid shape \[2, 3.5\]/);
    expect(() => T.tensor(data, { ...o, shape: [4, 2] })).toThrow(/6 values do not fill shape \[4, 2\]/);
    expect(() => T.ones([1, 3], o).expand([2.5, 3])).toThrow(/expand: invalid shape \[2.5, 3\]/);
    expect(() => T.ones([1, 3], o).expand([-1, 3])).toThrow(/expand: invalid shape \[-1, 3\]/);
    expect(() => T.zeros([2 ** 53, 2], o)).toThrow(/zeros: invalid shape/);
    expect(() => T.zeros(any(['3']), o)).toThrow(/zeros: invalid shape \["3"\]: dimensions must be integers >= 0/);
    expect(() => T.zeros(any(3), o)).toThrow(/zeros: the shape must be an array of integers >= 0, got 3/);
    expect(() => T.randn(any([2, null]), o)).toThrow(/randn: invalid shape \[2, null\]/);
    expect(() => T.ones([6], o).reshape(any(6))).toThrow(/reshape: the shape must be an array/);
    expect(() => T.ones([6], o).reshape([1.5, 4])).toThrow(/cannot reshape \[6\] \(6 elements\) to \[1.5, 4\]/);
    // A good shape still works, and so does reshape's -1.
    expect(T.tensor(data, { ...o, shape: [2, 3] }).reshape([3, -1]).shape).toEqual([3, 2]);
  });

  it('copyInto names a source that does not broadcast to the destination (it read as an expand error)', async () => {
    expect(() => T.copyInto(T.zeros([2, 3], o), T.ones([4, 3], o))).toThrow(
      'copyInto: the source [4, 3] does not broadcast to the destination [2, 3]',
    );
    const dst = T.zeros([2, 3], o);
    T.copyInto(dst, T.ones([3], o)); // a broadcast source still copies
    expect(Array.from(await dst.toArray())).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it("layer norm's eps must be a finite number >= 0 (a negative or NaN one gave NaN rows)", () => {
    const [x, w, b] = [T.randn([2, 8], o), T.ones([8], o), T.zeros([8], o)];
    for (const eps of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => T.layerNorm(x, w, b, eps)).toThrow(`layerNorm: eps must be a finite number >= 0, got ${eps}`);
    expect(() =>
      T.decodeLinear(x.reshape([2, 1, 8]), T.ones([8, 4], o), { norm: { weight: w, bias: b, eps: -1 } }),
    ).toThrow('decodeLinear: eps must be a finite number >= 0, got -1');
    expect(T.layerNorm(x, w, b, 0).out.shape).toEqual([2, 8]);
  });

  it("backward kernels check their caches' shapes like their inputs", () => {
    const x = T.randn([64, 8], o);
    const w = T.ones([8], o);
    const small = T.layerNorm(T.randn([2, 8], o), w, T.zeros([8], o));
    const lnb = (mean: T.Tensor, rstd: T.Tensor, weight = w) =>
      T.layerNormBackward(T.ones([64, 8], o), x, weight, mean, rstd);
    const full = T.layerNorm(x, w, T.zeros([8], o));
    expect(() => lnb(small.mean, full.rstd)).toThrow(/layerNormBackward: mean must have shape \[64\], got \[2\]/);
    expect(() => lnb(full.mean, small.rstd)).toThrow(/layerNormBackward: rstd must have shape \[64\], got \[2\]/);
    expect(() => lnb(full.mean, full.rstd, T.ones([3], o))).toThrow(/weight must have shape \[8\], got \[3\]/);
    expect(lnb(full.mean, full.rstd).dx.shape).toEqual([64, 8]);

    const logits = T.randn([64, 5], o);
    const targets = T.zeros([64], { ...o, dtype: 'int32' });
    const cache = T.crossEntropy(T.randn([2, 5], o), T.zeros([2], { ...o, dtype: 'int32' }));
    const dloss = T.ones([], o);
    expect(() => T.crossEntropyBackward(logits, targets, cache, dloss)).toThrow(
      /crossEntropyBackward: cache.logsumexp must have shape \[64\], got \[2\]/,
    );
    const ok = T.crossEntropy(logits, targets);
    expect(() => T.crossEntropyBackward(logits, targets, { ...ok, count: T.ones([1], o) }, dloss)).toThrow(
      /cache.count must have shape \[\], got \[1\]/,
    );
    expect(() => T.crossEntropyBackward(logits, T.zeros([64], o), ok, dloss)).toThrow(/targets must be int32/);
    expect(T.crossEntropyBackward(logits, targets, ok, dloss).shape).toEqual([64, 5]);
  });

  it('int32 data that does not fit and random bounds out of range are refused', () => {
    const int32 = { ...o, dtype: 'int32' } as const;
    const range = /not an integer in int32's range \[-2147483648, 2147483647\]/;
    expect(() => T.tensor([2 ** 31, 3e10], int32)).toThrow(T.ValueError);
    expect(() => T.tensor([2 ** 31, 3e10], int32)).toThrow(/tensor: element 0 is 2147483648, not an integer/);
    expect(() => T.tensor([0, -(2 ** 31) - 1], int32)).toThrow(range);
    expect(() => T.tensor(new Float64Array([1, 1.5]), int32)).toThrow(/element 1 is 1.5/);
    expect(() => T.full([2], 1.5, int32)).toThrow(/full: the value is 1.5, not an integer/);
    expect(() => T.full([2], 2 ** 31, int32)).toThrow(range);
    expect(() => T.full([2], any('1'), o)).toThrow(/full: the value must be a number, got 1/);
    expect(() => T.randint(0, 2 ** 32, [4], o)).toThrow(/randint: need integers low < high within int32/);
    expect(() => T.randint(-(2 ** 40), -(2 ** 40) + 5, [4], o)).toThrow(T.ValueError);
    expect(() => T.randint(3, 3, [4], o)).toThrow(/got \[3, 3\)/);
    expect(() => T.rand([2], { ...o, low: 1, high: 0 })).toThrow(/rand: low 1 is above high 0/);
    expect(() => T.rand([2], { ...o, high: Number.POSITIVE_INFINITY })).toThrow(/high must be a finite number/);
    expect(() => T.randn([2], { ...o, std: -1 })).toThrow(/randn: std must be >= 0, got -1/);
    expect(() => T.randn([2], { ...o, mean: Number.NaN })).toThrow(/mean must be a finite number, got NaN/);
  });

  it('int32 data at the edges of the range and randint over all of it still work', async () => {
    const edges = [-(2 ** 31), 2 ** 31 - 1];
    expect(Array.from(await T.tensor(edges, { ...o, dtype: 'int32' }).toArray())).toEqual(edges);
    const all = await T.randint(-(2 ** 31), 2 ** 31, [64], { ...o, generator: new T.Generator(1) }).toArray();
    expect(all.some((v) => v < 0) && all.some((v) => v > 0)).toBe(true);
  });

  it('an unknown dtype is one DTypeError listing the dtypes', () => {
    const list = /use float32, int32, float64, float16, bfloat16/;
    expect(() => T.tensor([1], { ...o, dtype: any('float8') })).toThrow(T.DTypeError);
    expect(() => T.tensor([1], { ...o, dtype: any('float8') })).toThrow(/tensor: unknown dtype "float8": use/);
    expect(() => T.tensor(new Float32Array(1), { ...o, dtype: any('int8') })).toThrow(list);
    expect(() => T.zeros([1], { ...o, dtype: any('toString') })).toThrow(/zeros: unknown dtype "toString"/);
    expect(() => T.ones([1], o).astype(any('int8'))).toThrow(/astype: unknown dtype "int8": use/);
    expect(() => T.empty([1], any(undefined), device)).toThrow(/empty: unknown dtype undefined/);
    expect(() => T.tensor(new Uint16Array(2), o)).toThrow(T.DTypeError);
  });

  it('non-tensor arguments to ops name the argument and the value', () => {
    const t = T.ones([2], o);
    expect(() => T.add(t, any(undefined))).toThrow(T.ValueError);
    expect(() => T.add(t, any(undefined))).toThrow(
      /add: b \(the second operand\) must be a tensor or a number, got undefined/,
    );
    expect(() => T.add(any(1), t)).toThrow(
      /add: a \(the first operand\) must be a tensor \(only the second may be a number\), got the number 1/,
    );
    expect(() => T.mul(any('2'), t)).toThrow(/got the string "2"/);
    expect(() => T.matmul(any(null), t)).toThrow(/matmul: a must be a tensor, got null/);
    expect(() => T.matmul(t, any(3))).toThrow(/matmul: b must be a tensor, got the number 3/);
    expect(() => T.exp(any(undefined))).toThrow(/exp: an argument that must be a tensor is undefined/);
    expect(() => T.layerNorm(t, any([1, 2]), t)).toThrow(/layerNorm: an argument that must be a tensor is an array/);
    expect(() => T.embedding(any(undefined), t)).toThrow(/embedding: the weight must be a tensor, got undefined/);
  });

  it('a device that is not a Device is refused in one line', async () => {
    const t = T.ones([2], o);
    await expect(t.to(any(undefined))).rejects.toThrow(T.DeviceError);
    await expect(t.to(any(undefined))).rejects.toThrow(/to: expected a Device, got undefined/);
    expect(() => T.setDefaultDevice(any(undefined))).toThrow(/setDefaultDevice: expected a Device, got undefined/);
    expect(() => T.setDefaultDevice(any('cpu'))).toThrow(
      /got the string "cpu" \(open one first: await getDevice\("cpu"\)\)/,
    );
    expect(T.getDefaultDevice()).toBe(T.cpu);
    expect(() => T.zeros([1], { device: any('cpu') })).toThrow(/empty: expected a Device/);
    await expect(T.getDevice(any(123))).rejects.toThrow(/getDevice: expected a device kind \(a string\) or a request/);
    await expect(T.getDevice(any(null))).rejects.toThrow(/got null/);
  });

  it('a tensor too large to allocate is one AllocationError naming its shape', () => {
    // Sizes past the largest typed array: refused before any memory is taken, on every device.
    expect(() => T.zeros([1e6, 1e6], o)).toThrow(T.AllocationError);
    expect(() => T.zeros([1e6, 1e6], o)).toThrow(
      /cannot allocate a float32 tensor of shape \[1000000, 1000000\] \(4000000000000 bytes\) on the cpu device/,
    );
    // 4 TB: past what any runtime allocates (Node 24 takes a 19.6 GB typed array, Node 20 not).
    expect(() => T.matmul(T.ones([1e6, 1], o), T.ones([1, 1e6], o))).toThrow(/shape \[1000000, 1000000\]/);
    // 19.6 GB: past both fast-CPU heaps (4 GiB wasm32, 16 GiB memory64), refused before
    // allocating (the reference would try it).
    if (!isReference) {
      expect(() => T.add(T.ones([70000, 1], o), T.ones([1, 70000], o))).toThrow(
        /shape \[70000, 70000\] .*no room in the \d+ GiB WebAssembly heap/,
      );
    }
  });

  it('arange refuses non-finite bounds; reductions refuse an axis named twice', () => {
    expect(() => T.arange(0, Number.POSITIVE_INFINITY, 1, o)).toThrow(
      /arange: end must be a finite number, got Infinity/,
    );
    expect(() => T.arange(Number.NaN, undefined, 1, o)).toThrow(/arange: end must be a finite number, got NaN/);
    expect(() => T.arange(0, 1, 0, o)).toThrow(/arange: step must not be 0/);
    expect(() => T.arange(0, 1e12, 1, o)).toThrow(T.AllocationError);
    const t = T.ones([2, 3], o);
    expect(() => T.sum(t, [1, 1])).toThrow(/sum: axes \[1, 1\] name an axis twice \(tensor of shape \[2, 3\]\)/);
    expect(() => T.sum(t, [1, -1])).toThrow(/axes \[1, -1\] name an axis twice/);
    expect(() => T.mean(t, [0, -2])).toThrow(/mean: axes \[0, -2\]/);
    expect(T.sum(t, [0, -1]).shape).toEqual([]);
  });
});
