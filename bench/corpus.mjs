// npm run bench -- --corpus [--corpus-sizes 50,200]: `mini-gpt prepare` MB/s and peak RSS, and
// `train --data SHARDS --preset tiny` time to the end of its first step and peak RSS, for two
// corpus sizes (memory must not grow with the corpus). The corpus is written at run time into a
// temporary folder (never committed): words of The Verdict in a seeded random order, in 10 MB
// documents. NOTE: its vocabulary is The Verdict's (a few thousand words), so the tokenizer's
// cache hits more often than on a real corpus; the MB/s are an upper bound for English text.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../packages/cli/bin/mini-gpt.js', import.meta.url));
const VERDICT = fileURLToPath(new URL('../packages/cli/data/the-verdict.txt', import.meta.url));

/** Writes `mb` MB of text in 10 MB files under `dir` (a seeded word salad of The Verdict). */
function writeCorpus(dir, mb) {
  mkdirSync(dir, { recursive: true });
  const words = readFileSync(VERDICT, 'utf8').split(/\s+/).filter(Boolean);
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const docBytes = 10e6;
  for (let written = 0, doc = 0; written < mb * 1e6; doc++) {
    const parts = [];
    let size = 0;
    while (size < Math.min(docBytes, mb * 1e6 - written)) {
      let line = '';
      for (let k = 0; k < 12; k++) line += `${words[next() % words.length]} `;
      line += '\n';
      parts.push(line);
      size += line.length;
    }
    writeFileSync(join(dir, `doc-${String(doc).padStart(4, '0')}.txt`), parts.join(''));
    written += size;
  }
}

/** Runs the CLI under /usr/bin/time: wall seconds, peak RSS in bytes, stdout. */
function timed(args) {
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB %M', process.execPath, BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', MINI_GPT_DEVICE: 'cpu' },
    maxBuffer: 1 << 26,
  });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`mini-gpt ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const kb = Number(r.stderr.match(/MAXRSS_KB (\d+)/)?.[1]);
  return { seconds, rss: kb * 1024, stdout: r.stdout };
}

/** The bench lines for each corpus size (MB). */
export function corpusLines(report, sizes = [50, 200]) {
  for (const mb of sizes) {
    const root = mkdtempSync(join(tmpdir(), 'mini-gpt-bench-corpus-'));
    try {
      writeCorpus(join(root, 'text'), mb);
      const prep = timed(['prepare', join(root, 'text'), '--out', join(root, 'shards'), '--json']);
      const manifest = JSON.parse(prep.stdout);
      const note = `${mb} MB generated corpus, ${manifest.train.tokens + manifest.val.tokens} tokens`;
      report(
        `prepare_${mb}mb`,
        'cpu',
        manifest.bytes / 1e6 / prep.seconds,
        'MB/s',
        `${note}; wall time of the command`,
      );
      report(`prepare_${mb}mb_peak_rss`, 'cpu', prep.rss / 1e6, 'MB', note);
      const train = timed([
        'train',
        '--data',
        join(root, 'shards'),
        '--preset',
        'tiny',
        '--max-steps',
        '1',
        '--sample-tokens',
        '0',
        '--eval-iter',
        '1',
        '--json',
        '--out',
        join(root, 'run'),
      ]);
      report(
        `train_first_step_${mb}mb`,
        'cpu',
        train.seconds,
        's',
        `${note}; train --preset tiny --max-steps 1 from the start of the command to its end (the step, one evaluation and the save)`,
      );
      report(`train_${mb}mb_peak_rss`, 'cpu', train.rss / 1e6, 'MB', note);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
}
