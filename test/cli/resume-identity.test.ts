// --resume checks the text's content, not its path: other text at the same path is refused
// saying what changed (it trained on silently, "step 72 of 18"), and the same text moved to a
// new path is accepted (it was refused: "--data cannot change when resuming").
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUICK, VERDICT, runCli } from './run-cli.js';

/** QUICK's flags with --data replaced and one epoch. */
function quick(data: string): string[] {
  const flags = [...QUICK];
  flags[flags.indexOf('--data') + 1] = data;
  flags[flags.indexOf('--epochs') + 1] = '1';
  return flags;
}

describe('--resume and the text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resume-identity-'));
  const text = join(dir, 'text.txt');
  const out = join(dir, 'run');

  it('other content at the same path is refused, naming the sizes and hashes', async () => {
    copyFileSync(VERDICT, text);
    const first = await runCli(['train', ...quick(text), '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(text, `${readFileSync(VERDICT, 'utf8')} And then some other words.`);
    const r = await runCli(['train', '--resume', out, '--epochs', '2']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /^error: --data .*text\.txt: not the text this run was trained on \(it had [\d,]+ bytes, SHA-256 [0-9a-f]{12}…; this has [\d,]+ bytes, SHA-256 [0-9a-f]{12}…; the file changed since\)/,
    );
  });

  it('the same content at a new path is accepted', async () => {
    copyFileSync(VERDICT, text); // back to what the run was trained on
    const moved = join(dir, 'moved.txt');
    copyFileSync(VERDICT, moved);
    const r = await runCli(['train', '--resume', out, '--epochs', '2', '--data', moved]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(moved);
  });
});

describe('leftovers of a kill -9 while writing the reports', () => {
  it('--resume removes .losses.csv.<hex>.tmp and the like, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stale-temps-'));
    const out = join(dir, 'run');
    const first = await runCli(['train', ...quick(VERDICT), '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(join(out, '.losses.csv.0123456789ab.tmp'), 'step,');
    writeFileSync(join(out, '.loss.png.ba9876543210.tmp'), 'x');
    writeFileSync(join(out, '.notes.0123456789ab.tmp'), 'mine');
    const r = await runCli(['train', '--resume', out, '--epochs', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, '.losses.csv.0123456789ab.tmp'))).toBe(false);
    expect(existsSync(join(out, '.loss.png.ba9876543210.tmp'))).toBe(false);
    expect(existsSync(join(out, '.notes.0123456789ab.tmp'))).toBe(true);
  });
});
