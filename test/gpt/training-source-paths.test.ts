// readTrainingSource refuses what it cannot read as text before reading (library-API hunt,
// finding 3): /dev/zero grew to 2 GB in seconds, a FIFO with no writer blocked for ever, and a
// missing path gave Node's raw "ENOENT: ..., open".
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'training-source-'));

describe('readTrainingSource', () => {
  it('names a missing path in one line', async () => {
    const missing = join(dir, 'missing.txt');
    await expect(G.readTrainingSource(missing)).rejects.toThrow(G.TrainingDataError);
    await expect(G.readTrainingSource(missing)).rejects.toThrow(`${missing}: no such file`);
  });

  it.skipIf(process.platform === 'win32')('refuses a device and a FIFO before reading', async () => {
    await expect(G.readTrainingSource('/dev/zero')).rejects.toThrow('/dev/zero: not a regular file');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(G.readTrainingSource(fifo)).rejects.toThrow(`${fifo}: not a regular file`);
  });

  it('still reads a small text file', async () => {
    const file = join(dir, 'text.txt');
    writeFileSync(file, 'hello');
    expect(await G.readTrainingSource(file)).toMatchObject({ kind: 'text', text: 'hello' });
  });
});
