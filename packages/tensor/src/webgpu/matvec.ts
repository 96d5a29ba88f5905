/**
 * The matvec kernels for products with at most 4 rows: decoding's one row a token, and the
 * prompt's last rows. matmul.ts routes every such product (and every block of one) here, so the
 * 64x64-tile kernel never computes 60 or more empty rows. Two layouts (backend.matvecSplitK):
 * matvec.wgsl (an invocation walks all of K for its columns; software adapters) and
 * matvec_splitk.wgsl (a workgroup a few columns, its invocations striding over K; GPUs).
 */
import type { MatmulArgs } from '../backend.js';
import { halfKind } from './half.js';

/** The largest M (rows of A and C) that runs on the matvec kernel. */
export const MATVEC_MAX_ROWS = 4;

/** Invocations per workgroup (lib_matvec.wgsl): each owns one word of B's rows (plain) or one row (transposed). */
const WG = 64;
/** matvec_splitk.wgsl: columns a workgroup owns with a transposed B (its TCOLS). */
export const SPLITK_TRANS_COLS = 4;
/** matvec_splitk.wgsl: words of B's rows a workgroup owns with a plain B (its TW; two columns a 16-bit word). */
export const SPLITK_PLAIN_WORDS = 4;
/** matvec_splitk.wgsl's workgroup memory besides the normed rows: `red` (256 vec4) and lib_norm_rows.wgsl's partials. */
export const SPLITK_WORKGROUP_BYTES = 256 * 16 + 2 * 256 * 4;

/**
 * Workgroups of matvec_splitk.wgsl for `n` columns: a transposed B, SPLITK_TRANS_COLS columns
 * each; a plain one, SPLITK_PLAIN_WORDS words of its rows (two columns a word when `packed`).
 */
export function splitKWorkgroups(n: number, transposed: boolean, packed: boolean): number {
  if (transposed) return Math.ceil(n / SPLITK_TRANS_COLS);
  return Math.ceil(n / (SPLITK_PLAIN_WORDS * (packed ? 2 : 1)));
}

/** What one matvec dispatch needs besides matmul's bindings and uniforms. */
export interface MatvecLaunch {
  readonly shader: 'matvec' | 'matvec_splitk';
  readonly constants: Record<string, number | boolean>;
  /** Workgroups for one block of `n` columns (the caller folds them with backend.grid; z is the batch). */
  readonly workgroups: number;
}

/**
 * Picks the matvec variant for one block of a product: `m` rows (1..4) and `n` columns, B's
 * dtype and layout from `args`, and `bBase` (B's first element within its bound window): a
 * 16-bit B is read a whole word (two elements) at a time when its rows start on a word.
 * `splitK` picks matvec_splitk.wgsl's layout (backend.matvecSplitK), else matvec.wgsl's.
 * Throws a RangeError for m outside 1..4 (the caller routes only those).
 */
export function matvecLaunch(args: MatmulArgs, m: number, n: number, bBase: number, splitK = false): MatvecLaunch {
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
  if (splitK) return { shader: 'matvec_splitk', constants, workgroups: splitKWorkgroups(n, b.transposed, packed) };
  const invocations = packed && !b.transposed ? Math.ceil(n / 2) : n;
  return { shader: 'matvec', constants, workgroups: Math.ceil(invocations / WG) };
}
