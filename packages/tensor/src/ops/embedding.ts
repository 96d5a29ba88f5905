/**
 * Embedding lookup: table (V, C), ids (...) int32 -> (..., C). On the CPU an id outside
 * [0, V) throws; a GPU kernel cannot throw, so there it yields a row of zeros.
 */
import { ShapeError, formatShape } from '../errors.js';
import { type Tensor, assertSameDevice, empty } from '../tensor.js';
import { assertDType, assertFloat, assertWeight, withContiguous } from './util.js';
import { zeros } from './creation.js';

function tableSize(op: string, table: Tensor): [number, number] {
  if (table.rank !== 2) throw new ShapeError(`${op}: the table must be (V, C), got ${formatShape(table.shape)}`);
  return [table.shape[0]!, table.shape[1]!];
}

/** table (V, C) float32/float64, or float16/bfloat16 (rows widened: the result is float32); ids (...) int32 -> (..., C). */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  const dtype = assertWeight('embedding', table);
  assertDType('embedding', 'ids', ids, 'int32');
  assertSameDevice('embedding', table, ids);
  const [V, C] = tableSize('embedding', table);
  const out = empty([...ids.shape, C], dtype, table.device);
  if (out.size === 0) return out;
  withContiguous([table, ids], (ct, ci) =>
    table.device.backend.kernels.gather({ table: ct!, ids: ci!, out, N: ids.size, V, C }),
  );
  return out;
}

/** dtable[ids[i]] += dout[i] into `dtable` (V, C), in place; repeated ids add up. */
export function embeddingBackwardInto(dtable: Tensor, dout: Tensor, ids: Tensor): void {
  assertFloat('embeddingBackward', dtable, dout);
  assertDType('embeddingBackward', 'ids', ids, 'int32');
  const [V, C] = tableSize('embeddingBackward', dtable);
  if (!dtable.isContiguous()) throw new ShapeError('embeddingBackward: the table gradient must be contiguous');
  if (dout.size !== ids.size * C) {
    throw new ShapeError(
      `embeddingBackward: dout ${formatShape(dout.shape)} does not match ids ${formatShape(ids.shape)} x ${C} channels`,
    );
  }
  if (ids.size === 0) return;
  withContiguous([dout, ids], (cd, ci) =>
    dtable.device.backend.kernels.scatterAdd({ dout: cd!, ids: ci!, dtable, N: ids.size, V, C }),
  );
}

/** The gradient of the table: zeros (V, C) with every dout row added at its id. */
export function embeddingBackward(dout: Tensor, ids: Tensor, V: number): Tensor {
  const C = dout.shape[dout.rank - 1]!;
  const dtable = zeros([V, C], { dtype: dout.dtype, device: dout.device });
  embeddingBackwardInto(dtable, dout, ids);
  return dtable;
}
