// writeSafetensors refuses what readHeader refuses or readTensor would misread (library-API
// hunt, finding 12): a tensor named __metadata__, metadata {x: 1}, an unknown dtype, and
// float32 data under I32 were written without a word.
import * as G from '@mini/gpt';
import { describe, expect, it } from 'vitest';

const sink = { write: async () => {} };
const f32 = (
  name: string,
  dtype = 'F32',
  data: () => Promise<Uint8Array | Float32Array> = async () => new Float32Array(2),
) => ({ name, shape: [2], dtype, data }) as G.TensorToWrite;

describe('writeSafetensors', () => {
  it.each([
    [[f32('__metadata__')], {}, 'tensor name "__metadata__" is not allowed'],
    [[f32('a')], { x: 1 }, 'metadata must map strings to strings, got {"x":1}'],
    [[f32('a', 'F64')], {}, 'tensor "a": dtype "F64" is not one it writes'],
    [[{ ...f32('a'), shape: [-2] }], {}, 'tensor "a": shape [-2] is not a list of non-negative integers'],
    [[f32('a', 'I32')], {}, 'tensor "a" gave 2 values in a Float32Array for I32 [2] (it needs 2 values as Int32Array)'],
  ])('refuses %j', async (tensors, metadata, message) => {
    const write = () => G.writeSafetensors(sink, tensors, metadata as never);
    await expect(write()).rejects.toThrow(G.SafetensorsError);
    await expect(write()).rejects.toThrow(message);
  });

  it('writes what readHeader reads back', async () => {
    const chunks: Uint8Array[] = [];
    await G.writeSafetensors({ write: async (b) => void chunks.push(b.slice()) }, [f32('a')], { format: 'pt' });
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    const header = await G.readHeader(G.bytesSource(bytes));
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(await G.readTensor(header, 'a')).toEqual(new Float32Array(2));
  });
});
