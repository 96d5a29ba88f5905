// The book's loss table, ours beside PyTorch's (issue 24): `npm run bench -- --book-run` prints
// `npx mini-gpt train`'s evaluation lines and bench/pytorch_book_run.py's (the book's code) side
// by side and says whether every line matches to the printed digit. With the torch random
// stream (the CLI's default on the CPU) they should: the same random numbers, the same
// arithmetic to float32 rounding. Also usable on saved outputs:
//   node bench/book-table.mjs OURS_TRANSCRIPT.txt PYTORCH.jsonl
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The book's evaluation line for one record ({ epoch, step, trainLoss, valLoss }). */
export const bookLine = (r) =>
  `Ep ${r.epoch} (Step ${String(r.step).padStart(6, '0')}): Train loss ${fixed(r.trainLoss)}, Val loss ${fixed(r.valLoss)}`;

const fixed = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : 'nan');

/** The evaluation lines of a `mini-gpt train` transcript, in order. */
export function transcriptLines(stdout) {
  return [...stdout.matchAll(/^Ep \d+ \(Step \d+\): Train loss [\d.a-zA-Z]+, Val loss [\d.a-zA-Z]+/gm)].map(
    (m) => m[0],
  );
}

/** PyTorch's records (bench/pytorch_book_run.py book's JSON line; NaN written as NaN) as lines. */
export function pytorchLines(jsonl) {
  const last = jsonl
    .trim()
    .split('\n')
    .pop()
    .replace(/\bNaN\b/g, 'null');
  return JSON.parse(last).records.map(bookLine);
}

/**
 * The two tables side by side, a mark on each line that differs, and a verdict line; returns
 * { text, matching, total, same } (same: every line matches and the counts agree).
 */
export function sideBySide(ours, theirs, { left = 'mini-gpt', right = 'PyTorch' } = {}) {
  const width = Math.max(left.length, ...ours.map((l) => l.length));
  const rows = [`   ${left.padEnd(width)}   ${right}`];
  const n = Math.max(ours.length, theirs.length);
  let matching = 0;
  for (let i = 0; i < n; i++) {
    const a = ours[i] ?? '(none)';
    const b = theirs[i] ?? '(none)';
    const same = a === b;
    matching += same ? 1 : 0;
    rows.push(`${same ? '  ' : '≠ '} ${a.padEnd(width)}   ${b}`);
  }
  const same = matching === n && ours.length === theirs.length;
  rows.push(
    same
      ? `every line matches (${n} of ${n})`
      : `${matching} of ${n} lines match (${ours.length} evaluations of ours, ${theirs.length} of PyTorch's)`,
  );
  return { text: rows.join('\n'), matching, total: n, same };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [oursFile, torchFile] = process.argv.slice(2);
  if (!oursFile || !torchFile) {
    process.stderr.write('usage: node bench/book-table.mjs OURS_TRANSCRIPT.txt PYTORCH.jsonl\n');
    process.exit(2);
  }
  const { text, same } = sideBySide(
    transcriptLines(readFileSync(oursFile, 'utf8')),
    pytorchLines(readFileSync(torchFile, 'utf8')),
  );
  process.stdout.write(`${text}\n`);
  process.exit(same ? 0 : 1);
}
