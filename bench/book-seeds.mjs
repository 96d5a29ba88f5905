#!/usr/bin/env node
// The book's run over several seeds, mini-gpt and PyTorch side by side (issue 15): a Markdown
// table of each run's final training loss, minimum and final validation loss and loss spikes.
// Reads DIR/mini-gpt-seedN/losses.csv (npx mini-gpt train --out DIR/mini-gpt-seedN --seed N) and
// DIR/pytorch-seedN.jsonl (bench/pytorch_book_run.py book DIR --seed N). Run them first, e.g.:
//   node bench/book-trajectory.mjs --out DIR --steps 0       # data.json: the token ids PyTorch reads
//   for s in 1 2 3 4 5; do
//     npx mini-gpt train --data the-verdict.txt --epochs 4 --seed $s --device cpu --out DIR/mini-gpt-seed$s
//     /usr/bin/python3 bench/pytorch_book_run.py book DIR --seed $s --epochs 4
//   done
//   node bench/book-seeds.mjs DIR
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/book-seeds.mjs DIR');

/** Evaluations as { step, trainLoss, valLoss }, from either side's files. */
function records(name) {
  const path = join(dir, name);
  if (name.endsWith('.jsonl')) return JSON.parse(readFileSync(path, 'utf8').trim().split('\n').at(-1)).records;
  return readFileSync(join(path, 'losses.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [step, , , trainLoss, valLoss] = line.split(',').map(Number);
      return { step, trainLoss, valLoss };
    });
}

/** A spike: an evaluation whose training loss is above the one before it by more than 1. */
function spikes(r) {
  return r
    .filter((x, i) => i > 0 && x.trainLoss > r[i - 1].trainLoss + 1)
    .map((x) => `step ${x.step} (${x.trainLoss.toFixed(2)})`);
}

// Runs from the other side's initial weights (the streams of their own seed):
// mini-gpt-seedN-pytorch-init.jsonl (bench/book-from-init.mjs) and pytorch-seedN-init.jsonl
// (pytorch_book_run.py book --init). They are tabulated, not counted in the per-side spread.
const allRuns = readdirSync(dir)
  .map((name) => ({ name, m: /^(mini-gpt|pytorch)-seed(\d+)(-pytorch-init|-init)?(\.jsonl)?$/.exec(name) }))
  .filter(({ name, m }) => m && (m[4] || existsSync(join(dir, name, 'losses.csv'))))
  .map(({ name, m }) => ({ side: m[1], seed: Number(m[2]), swapped: Boolean(m[3]), r: records(name) }))
  .sort((a, b) => a.side.localeCompare(b.side) || a.swapped - b.swapped || a.seed - b.seed);
// A run that has not reached the longest run's last step (still running) is listed, not counted.
const lastStep = Math.max(...allRuns.map((x) => x.r.at(-1).step));
const runs = allRuns.filter((x) => !x.swapped && x.r.at(-1).step === lastStep);
const initOf = ({ side, swapped }) => (swapped ? (side === 'pytorch' ? "mini-gpt's" : "PyTorch's") : 'its own');

const f = (x) => x.toFixed(3);
console.log(
  '| side | seed | initial weights | last step | train loss (last) | val loss min (step) | val loss (last) | spikes |',
);
console.log('|---|---:|---|---:|---:|---:|---:|---|');
for (const run of allRuns) {
  const { side, seed, r } = run;
  const last = r.at(-1);
  const min = r.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
  console.log(
    `| ${side} | ${seed} | ${initOf(run)} | ${last.step} | ${f(last.trainLoss)} | ${f(min.valLoss)} (${min.step}) | ${f(last.valLoss)} | ${spikes(r).join(', ') || 'none'} |`,
  );
}
// PyTorch runs record, beside the book's training loss (5 batches of the reshuffled loader), the
// loss of the first 5 batches in window order (what mini-gpt prints) and of all batches.
for (const { seed, r } of runs.filter((x) => x.side === 'pytorch' && x.r.at(-1).trainLossFirst5InOrder !== undefined)) {
  const last = r.at(-1);
  console.log(
    `\npytorch seed ${seed}, step ${last.step}: training loss on 5 reshuffled batches (the book's) ${f(last.trainLoss)}, on the first 5 in window order (mini-gpt's) ${f(last.trainLossFirst5InOrder)}, on all ${f(last.trainLossAllBatches)}`,
  );
}
const both = runs.filter((x) => x.r.at(-1).trainLossFirst5InOrder !== undefined).map((x) => x.r.at(-1));
if (both.length) {
  const gap = both.map((l) => l.trainLossFirst5InOrder - l.trainLoss);
  console.log(
    `\npytorch, last step over ${both.length} seed(s): first 5 in window order minus the book's 5 reshuffled batches: mean ${f(gap.reduce((a, b) => a + b, 0) / gap.length)} (${gap.map(f).join(', ')}); its mean of mini-gpt's estimate ${f(both.reduce((a, l) => a + l.trainLossFirst5InOrder, 0) / both.length)}`,
  );
}
/** Mean and sample standard deviation (NaN for one value). */
function stats(xs) {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { n: xs.length, mean, sd };
}
const measures = {
  'final training loss': (r) => r.at(-1).trainLoss,
  'minimum validation loss': (r) => Math.min(...r.map((x) => x.valLoss)),
  'final validation loss': (r) => r.at(-1).valLoss,
};
for (const [what, of] of Object.entries(measures)) {
  const bySide = {};
  for (const side of new Set(runs.map((x) => x.side))) {
    const xs = runs.filter((x) => x.side === side).map((x) => of(x.r));
    bySide[side] = stats(xs);
    const { n, mean, sd } = bySide[side];
    console.log(
      `\n${side}: ${what} over ${n} seed(s): mean ${f(mean)}, sd ${n > 1 ? f(sd) : 'n/a (one seed)'}, range ${f(Math.min(...xs))}–${f(Math.max(...xs))}`,
    );
  }
  const [a, b] = [bySide['mini-gpt'], bySide.pytorch];
  if (a?.n > 1 && b?.n > 1) {
    // Welch's t: the two sides' means against their seeds' spread
    const t = (a.mean - b.mean) / Math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n);
    console.log(`mini-gpt minus pytorch, ${what}: ${f(a.mean - b.mean)}, Welch's t = ${t.toFixed(2)}`);
  }
}
