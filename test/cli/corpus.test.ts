// mini-gpt prepare (globs, progress without a terminal, manifest) and train --data on its
// shards and on a folder of texts (tokenized once into the run, reused by --resume).
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERDICT, runCli } from './run-cli.js';

const TRAIN = [
  '--preset',
  'tiny',
  '--context-length',
  '32',
  '--eval-freq',
  '2',
  '--eval-iter',
  '1',
  '--sample-tokens',
  '0',
];

describe('mini-gpt prepare and train on a corpus', () => {
  const root = mkdtempSync(join(tmpdir(), 'mini-gpt-corpus-'));
  const text = readFileSync(VERDICT, 'utf8');
  mkdirSync(join(root, 'books', 'more'), { recursive: true });
  writeFileSync(join(root, 'books', 'one.txt'), text.slice(0, 12000));
  writeFileSync(join(root, 'books', 'more', 'two.txt'), text.slice(12000));
  writeFileSync(join(root, 'books', 'notes.md'), 'not matched by the glob');

  it('a quoted glob: shards, manifest, progress lines in MB/s on a non-terminal, the train command', async () => {
    const out = join(root, 'shards');
    const r = await runCli(['prepare', join(root, 'books', '**', '*.txt'), '--out', out, '--shard-tokens', '2000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/tokenizing: 0\.0 \/ 0\.0 MB, \d+\.\d MB\/s, \d+ tokens/);
    expect(r.stdout).toContain(`train on it with:  npx mini-gpt train --data ${out}`);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.inputs.map((i: { path: string }) => i.path)).toEqual([
      join(root, 'books', 'more', 'two.txt'),
      join(root, 'books', 'one.txt'),
    ]);
    expect(manifest.documents).toBe(2);
    expect(manifest.split.valShare).toBe(0.01);
    expect(readdirSync(out).filter((f) => f.startsWith('train_')).length).toBe(manifest.train.shards.length);
    expect(manifest.train.shards.length).toBeGreaterThan(2);
    // A second prepare into the same folder is refused; a glob that matches nothing is one line.
    const again = await runCli(['prepare', join(root, 'books'), '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe(`error: --out ${out}: not an empty folder; choose a new one`);
    const none = await runCli(['prepare', join(root, '*.nothing'), '--out', join(root, 'x')]);
    expect(none.stderr.trim()).toBe(`error: ${join(root, '*.nothing')}: the pattern matches no file`);

    const run = join(root, 'run-shards');
    const t = await runCli(['train', ...TRAIN, '--data', out, '--max-steps', '5', '--out', run]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(
      `data: ${out} (token shards, ${manifest.train.tokens.toLocaleString('en-US')} training tokens`,
    );
    expect(t.stdout).toContain('done: 5 steps');
  });

  it('a text past 256 MB is refused by eval with one line before it is read (one string cannot hold it)', async () => {
    const big = join(root, 'big.txt');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 300e6); // sparse: no disk used
    closeSync(fd);
    const r = await runCli(['eval', '--model', 'gpt2', '--data', big]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^error: --data .*big\.txt: 300 MB, more than the 256 MB read whole here; tokenize it with `mini-gpt prepare`/,
    );
    rmSync(big);
  });

  it('a folder of texts is tokenized once into the run folder, and --resume reuses it', async () => {
    const run = join(root, 'run-texts');
    const t = await runCli(['train', ...TRAIN, '--data', join(root, 'books'), '--max-steps', '3', '--out', run]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(`tokenized into ${join(run, 'data')}, reused by --resume`);
    expect(readdirSync(join(run, 'data'))).toContain('manifest.json');
    const before = readFileSync(join(run, 'data', 'train_000000.bin'));
    const r = await runCli(['train', '--resume', run, '--max-steps', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`tokenized once into ${join(run, 'data')}`);
    expect(r.stdout).not.toContain('tokenizing:');
    expect(readFileSync(join(run, 'data', 'train_000000.bin')).equals(before)).toBe(true);
    // An input that changed since is refused rather than read as other data.
    writeFileSync(join(root, 'books', 'notes.md'), 'changed');
    const changed = await runCli(['train', '--resume', run, '--max-steps', '7']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('the files changed since this run tokenized them');
  });

  it('a binary file in a folder given to prepare is refused with one line naming it', async () => {
    const dir = join(root, 'mixed');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.txt'), text.slice(0, 3000));
    writeFileSync(join(dir, 'b.txt'), Buffer.from([0x41, 0x42, 0xff, 0xfe, 0x43]));
    const r = await runCli(['prepare', dir, '--out', join(root, 'shards-mixed')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/b\.txt: not UTF-8 text/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a prepared folder with no training shards is refused, not read as text', async () => {
    // prepare refuses empty input now (issue 27): make the corpus, then take its training shards away.
    const small = join(root, 'small.txt');
    writeFileSync(small, 'Every effort moves you. '.repeat(50));
    const out = join(root, 'shards-empty');
    expect((await runCli(['prepare', small, '--out', out])).code).toBe(0);
    for (const name of readdirSync(out)) if (name.includes('train')) rmSync(join(out, name));
    const t = await runCli(['train', ...TRAIN, '--data', out, '--max-steps', '1', '--out', join(root, 'run-empty')]);
    expect(t.code, t.stderr).toBe(2);
    expect(t.stderr).toMatch(/prepared token-shard folder with no training shards/);
  });
});
