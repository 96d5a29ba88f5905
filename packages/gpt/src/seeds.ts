/**
 * One run seed (`--seed`), three random streams that share no bits: the initial weights draw
 * from Generator(seed) itself; the dropout masks and the training loader's shuffles from seeds
 * folded in from it (T.foldIn, JAX's fold_in).
 * NOTE: until issue 15, dropout used seed + 1 and the shuffle the run seed (stream = epoch): the
 * order of epoch e then came from the same random bits as the e-th initialised parameter, and
 * run s's dropout masks were run s + 1's initial weights, so "independent" seeds were not.
 */
import * as T from '@mini/tensor';

export interface RunSeeds {
  /** Generator seed of the initial weights (the run seed). */
  init: number;
  /** Generator seed of the dropout masks. */
  dropout: number;
  /** Generator seed of the training loader's per-epoch shuffles. */
  shuffle: number;
}

export function runSeeds(seed: number): RunSeeds {
  return { init: seed, dropout: T.foldIn(seed, 1), shuffle: T.foldIn(seed, 2) };
}
