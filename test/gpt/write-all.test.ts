// writeAll and writeAllSync: every byte written, however few each write(2) takes. One write may
// take fewer bytes than asked with no error (at a file size limit, on a disk that fills);
// test/cli/short-writes.test.ts shows the commands that lost data that way.
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAll, writeAllSync } from '../../packages/gpt/src/node/files.js';

/** A FileHandle whose writes take at most `most` bytes each, into `file` (positions honoured). */
function stingyHandle(most: number, file: number[], calls: (number | null)[]): FileHandle {
  let offset = 0;
  const write = async (bytes: Uint8Array, from: number, length: number, position: number | null) => {
    calls.push(position);
    const n = Math.min(most, length);
    const at = position ?? offset;
    for (let i = 0; i < n; i++) file[at + i] = bytes[from + i]!;
    if (position === null) offset += n;
    return { bytesWritten: n, buffer: bytes };
  };
  return { write } as unknown as FileHandle;
}

describe('writeAll', () => {
  const bytes = Uint8Array.from({ length: 10 }, (_, i) => i + 1);

  it('writes the rest when a write takes only part', async () => {
    const file: number[] = [];
    const calls: (number | null)[] = [];
    await writeAll(stingyHandle(3, file, calls), bytes);
    expect(file).toEqual([...bytes]);
    expect(calls).toEqual([null, null, null, null]);
  });

  it('at a position: each later write goes where the last one stopped', async () => {
    const file: number[] = [9, 9];
    const calls: (number | null)[] = [];
    await writeAll(stingyHandle(4, file, calls), bytes, 2);
    expect(file).toEqual([9, 9, ...bytes]);
    expect(calls).toEqual([2, 6, 10]);
  });

  it('a write that takes nothing and reports nothing is an EIO error, not a loop', async () => {
    await expect(writeAll(stingyHandle(0, [], []), bytes)).rejects.toMatchObject({ code: 'EIO' });
  });

  it('nothing to write: no write at all', async () => {
    const calls: (number | null)[] = [];
    await writeAll(stingyHandle(1, [], calls), new Uint8Array(0));
    expect(calls).toEqual([]);
  });
});

describe('writeAllSync', () => {
  it('writes every byte, at the offset or at a position', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'write-all-')), 'f.bin');
    const fd = openSync(path, 'w');
    try {
      writeAllSync(fd, Uint8Array.from([1, 2, 3, 4]));
      writeAllSync(fd, Uint8Array.from([7, 8]), 1);
    } finally {
      closeSync(fd);
    }
    expect([...readFileSync(path)]).toEqual([1, 7, 8, 4]);
  });
});
