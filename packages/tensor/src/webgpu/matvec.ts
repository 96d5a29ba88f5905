/**
 * The matvec kernel (matvec.wgsl) for products with at most 4 rows: decoding's one row a
 * token, and the prompt's last rows. matmul.ts routes every such product (and every block of
 * one) here, so the 64x64-tile kernel never computes 60 or more empty rows.
 */
import type { MatmulArgs } from '../backend.js';
import { halfKind } from './half.js';

/** The largest M (rows of A and C) that runs on the matvec kernel. */
export const MATVEC_MAX_ROWS = 4;

/** Invocations per workgroup (lib_matvec.wgsl): each owns one word of B's rows (plain) or one row (transposed). */
const WG = 64;

/** What one matvec dispatch needs besides matmul's bindings and uniforms. */
export interface MatvecLaunch {
  readonly shader: 'matvec';
  readonly constants: Record<string, number | boolean>;
  /** Workgroups along x for one block of `n` columns (y is 1; z is the batch). */
  readonly columnsWorkgroups: number;
}

/**
 * Picks the matvec variant for one block of a product: `m` rows (1..4) and `n` columns, B's
 * dtype and layout from `args`, and `bBase` (B's first element within its bound window): a
 * 16-bit B is read a whole word (two elements) at a time when its rows start on a word.
 * Throws a RangeError for m outside 1..4 (the caller routes only those).
 */
export function matvecLaunch(args: MatmulArgs, m: number, n: number, bBase: number): MatvecLaunch {
  if (!(m >= 1 && m <= MATVEC_MAX_ROWS)) throw new RangeError(`matvec: ${m} rows (1 to ${MATVEC_MAX_ROWS})`);
  const { b } = args;
  const kind = halfKind(b.view.dtype);
  const packed = kind !== 0 && bBase % 2 === 0 && b.ld % 2 === 0 && (args.batch === 1 || b.batchStride % 2 === 0);
  const constants = {
    TRANS_A: args.a.transposed,
    TRANS_B: b.transposed,
    B_KIND: kind,
    ROWS: m,
    PACKED: packed,
  };
  const invocations = packed && !b.transposed ? Math.ceil(n / 2) : n;
  return { shader: 'matvec', constants, columnsWorkgroups: Math.ceil(invocations / WG) };
}
