// What the CLI tells a user to type must work (issue 27, item 10): a path with a space is
// quoted in the commands it prints; a run shortened on resume never reports "the added -2664
// steps"; `prepare` of empty input fails instead of making an empty corpus and exiting 0.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { describe, expect, it } from 'vitest';
import { QUICK, runCli } from './run-cli.js';

/** QUICK's flags with one epoch. */
const oneEpoch = (() => {
  const flags = [...QUICK];
  flags[flags.indexOf('--epochs') + 1] = '1';
  return flags;
})();

describe('printed commands and notes', () => {
  const root = mkdtempSync(join(tmpdir(), 'resume-advice-'));
  const out = join(root, "my runs/it's here");

  it('a run folder with a space and a quote is quoted in the --resume advice', async () => {
    const first = await runCli(['train', ...oneEpoch, '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    const again = await runCli(['train', ...oneEpoch, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`continue it with --resume '${root}/my runs/it'\\''s here'`);
  });

  it('a resumed run with fewer epochs than planned says it is shortened, never "added -N steps"', async () => {
    // The run planned 6 epochs and stopped after 1 (as Ctrl-C would leave it); resumed with 2.
    const state = join(out, 'checkpoint', 'trainer_state.json');
    const file = JSON.parse(readFileSync(state, 'utf8')) as { extra: { flags: { epochs: number } } };
    file.extra.flags.epochs = 6;
    writeFileSync(state, JSON.stringify(file));
    const r = await runCli(['train', '--resume', out, '--epochs', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(
      /schedule: the run is shortened from \d+ to \d+ steps; the learning rate stays/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/-\d+ steps/);
  });
});

describe('prepare', () => {
  it('empty input fails with one line instead of exiting 0 with an empty corpus', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prepare-empty-'));
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    const r = await runCli(['prepare', empty, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${empty} is empty (0 bytes): nothing to tokenize\n`);
    mkdirSync(join(dir, 'texts'));
    writeFileSync(join(dir, 'texts', 'a.txt'), '');
    writeFileSync(join(dir, 'texts', 'b.txt'), '');
    const folder = await runCli(['prepare', join(dir, 'texts'), '--out', join(dir, 'out2')]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe(`error: ${join(dir, 'texts')}: all 2 files are empty (0 bytes): nothing to tokenize\n`);
  });
});

describe('losses.csv', () => {
  it('a loss not measured is an empty field, whether NaN (this run) or null (read back on resume)', () => {
    const csv = G.lossesCsv([
      { step: 0, epoch: 1, tokensSeen: 64, trainLoss: 9.5, valLoss: Number.NaN },
      { step: 5, epoch: 1, tokensSeen: 384, trainLoss: 8.25, valLoss: null as unknown as number },
    ]);
    expect(csv).toBe('step,epoch,tokens_seen,train_loss,val_loss\n0,1,64,9.5,\n5,1,384,8.25,\n');
  });
});
