// A write cut short. The write(2) that reaches a file size limit (`ulimit -f`) or fills the
// disk writes what fits and reports no error; only the next write fails. When that short write
// was a file's last one, train, convert and prepare took the file as whole: a checkpoint cut
// short replaced the last good one, and a corpus lost its last tokens in silence. Each limit
// here falls a few bytes before the end of the largest file a command writes, so only the
// last write is short. A failed command also takes back what it wrote: a retry with the same
// --out used to be refused for the half-written folder it left.
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QUICK, VERDICT, runCli, runCliUnder } from './run-cli.js';

const EFBIG = 'a file would pass the largest size allowed here (ulimit -f, or the file system) (EFBIG)';
/** QUICK's flags with one epoch and the model only (one file of the model's size per save). */
const modelOnly = (() => {
  const flags = [...QUICK, '--no-optimizer-state'];
  flags[flags.indexOf('--epochs') + 1] = '1';
  return flags;
})();
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error:'));
const limit = (bytes: number) => ['prlimit', `--fsize=${bytes}`];

describe('a write cut short by a file size limit fails, and leaves nothing half-written', () => {
  let top: string;
  let run: string;
  let modelBytes: number;
  beforeAll(async () => {
    top = mkdtempSync(join(tmpdir(), 'short-writes-'));
    run = join(top, 'run');
    const r = await runCli(['train', ...modelOnly, '--out', run]);
    expect(r.code, r.stderr).toBe(0);
    modelBytes = statSync(join(run, 'checkpoint', 'model.safetensors')).size;
  });

  it('train: the save fails with one line and no run folder is left', async () => {
    const out = join(top, 'train-short');
    const r = await runCliUnder(limit(modelBytes - 8), ['train', ...modelOnly, '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(errorLines(r.stderr)).toEqual([
      `error: could not save the run: ${EFBIG}; no checkpoint was saved before it; free some space, or choose another --out on a larger disk, and start again`,
    ]);
    expect(() => statSync(out)).toThrow(/ENOENT/);
  });

  it('convert: one line, and --out is taken back', async () => {
    const out = join(top, 'convert-short');
    const r = await runCliUnder(limit(modelBytes - 8), [
      'convert',
      '--model',
      join(run, 'checkpoint'),
      '--dtype',
      'float32',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(errorLines(r.stderr)).toEqual([
      `error: could not write the model to ${out}: ${EFBIG}; the unfinished model was removed`,
    ]);
    expect(() => statSync(out)).toThrow(/ENOENT/);
    // The same command with room succeeds: nothing was left to refuse.
    const again = await runCli(['convert', '--model', join(run, 'checkpoint'), '--dtype', 'float32', '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(statSync(join(out, 'model.safetensors')).size).toBe(modelBytes);
  });

  it('prepare: one line, no stack trace, and --out is taken back', async () => {
    const whole = join(top, 'corpus');
    const ok = await runCli(['prepare', VERDICT, '--out', whole]);
    expect(ok.code, ok.stderr).toBe(0);
    const shardBytes = statSync(join(whole, 'train_000000.bin')).size;
    const out = join(top, 'corpus-short');
    const r = await runCliUnder(limit(shardBytes - 2), ['prepare', VERDICT, '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expect(errorLines(r.stderr)).toEqual([
      `error: could not write the corpus to ${out}: ${EFBIG}; the unfinished corpus was removed`,
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at |Node\.js v/);
    expect(() => statSync(out)).toThrow(/ENOENT/);
  });

  it('prepare: a failure other than writing (a binary file in a folder) takes --out back too', async () => {
    const inputs = join(top, 'mixed');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'a.txt'), 'plain text '.repeat(2000));
    writeFileSync(join(inputs, 'b.txt'), Buffer.from([0x66, 0x6f, 0x00, 0x6f]));
    const out = join(top, 'corpus-mixed');
    const r = await runCli(['prepare', inputs, '--out', out]);
    expect(r.code).not.toBe(0);
    expect(errorLines(r.stderr)).toEqual([
      `error: ${join(inputs, 'b.txt')}: a NUL byte at offset 2: a binary file, not text`,
    ]);
    expect(() => statSync(out)).toThrow(/ENOENT/);
  });
});
