// --resume where the run cannot be written (issue 27, item 10): a read-only run folder, and a
// disk that fills during a save. The advice printed must name only what --resume accepts (it
// refuses --out and --no-optimizer-state), following it must work, and nothing may be lost:
// the last checkpoint stays whole and no half-written one is left.
// Tests run as root, which writes anywhere: the read-only case runs the CLI as nobody
// (setpriv), and a full disk is RLIMIT_FSIZE (prlimit --fsize), which fails writes past the
// limit with EFBIG (Node ignores SIGXFSZ) without mounting a small file system.
import { chmodSync, chownSync, cpSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUICK, runCli, runCliUnder } from './run-cli.js';

const NOBODY = 65534;
const root = process.getuid?.() === 0;

/** QUICK's flags with one epoch. */
const oneEpoch = (() => {
  const flags = [...QUICK];
  flags[flags.indexOf('--epochs') + 1] = '1';
  return flags;
})();

/** A finished one-epoch run in a folder every user can read (mkdtemp makes 0700 folders). */
async function oneEpochRun(): Promise<{ top: string; out: string }> {
  const top = mkdtempSync(join(tmpdir(), 'resume-no-room-'));
  chmodSync(top, 0o755);
  const out = join(top, 'my run');
  const r = await runCli(['train', ...oneEpoch, '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  return { top, out };
}

const checkpointFiles = (out: string) =>
  Object.fromEntries(
    readdirSync(join(out, 'checkpoint'))
      .sort()
      .map((name) => [name, readFileSync(join(out, 'checkpoint', name)).toString('base64')]),
  );

describe('--resume where the run cannot be written', () => {
  it('a read-only run folder: the advice is to --resume a copy, and that works', async () => {
    const { top, out } = await oneEpochRun();
    // As root: run as nobody, for whom the root-owned folder is read-only. Otherwise: make it so.
    const as = root ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : ['env'];
    if (!root) chmodSync(out, 0o555);
    const before = checkpointFiles(out);
    const r = await runCliUnder(as, ['train', '--resume', out, '--epochs', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: --resume ${out}: cannot create or write this folder (EACCES); to resume it, copy the run folder somewhere writable and give the copy to --resume`,
    );
    expect(r.stderr).not.toMatch(/--out|--no-optimizer-state/);
    expect(checkpointFiles(out)).toEqual(before);
    // The advice, followed: a copy in a folder this user owns resumes.
    const mine = join(top, 'mine');
    cpSync(out, join(mine, 'copy'), { recursive: true });
    if (root)
      for (const path of [mine, join(mine, 'copy'), join(mine, 'copy', 'checkpoint')]) chownSync(path, NOBODY, NOBODY);
    const resumed = await runCliUnder(as, ['train', '--resume', join(mine, 'copy'), '--epochs', '2']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(`${resumed.stdout}${resumed.stderr}`).toContain('resuming: epoch 2, step 4 of 8');
  });

  it('a disk that fills during a save: one line, the last checkpoint whole, and the --resume it names works', async () => {
    const { out } = await oneEpochRun();
    const before = checkpointFiles(out);
    // 1 MB: the text and reports fit, the 13 MB model.safetensors does not.
    const full = await runCliUnder(['prlimit', '--fsize=1000000'], ['train', '--resume', out, '--epochs', '2']);
    expect(full.code).toBe(1);
    const errors = full.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toEqual([
      `error: could not save the run: a file would pass the largest size allowed here (ulimit -f, or the file system) (EFBIG); the checkpoint of step 4 in ${join(out, 'checkpoint')} is whole; free some space, or copy the run folder to a larger disk, then continue with --resume '${out}' (or --resume the copy)`,
    ]);
    expect(full.stderr).not.toMatch(/--out|--no-optimizer-state/);
    expect(readdirSync(out).filter((name) => name.includes('.saving-'))).toEqual([]);
    expect(checkpointFiles(out)).toEqual(before);
    const resumed = await runCli(['train', '--resume', out, '--epochs', '2']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(`${resumed.stdout}${resumed.stderr}`).toContain('resuming: epoch 2, step 4 of 8');
  });

  it('a new run whose first save does not fit is told to start again elsewhere, not to --resume', async () => {
    const top = mkdtempSync(join(tmpdir(), 'resume-no-room-'));
    const full = await runCliUnder(['prlimit', '--fsize=1000000'], ['train', ...oneEpoch, '--out', join(top, 'run')]);
    expect(full.code).toBe(1);
    expect(full.stderr).toContain(
      'error: could not save the run: a file would pass the largest size allowed here (ulimit -f, or the file system) (EFBIG); no checkpoint was saved before it; free some space, or choose another --out on a larger disk, and start again',
    );
    expect(full.stderr).not.toContain('--resume');
  });
});
