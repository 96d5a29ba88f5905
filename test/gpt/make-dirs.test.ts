// makeDirs is `mkdir -p` without Node's recursive mkdir, which never returns under /proc (Node 20
// and 24): every folder the CLI and the loaders create goes through it.
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { describe, expect, it } from 'vitest';

describe('makeDirs', () => {
  it('creates the missing folders and returns the topmost one it created, as mkdir -p', async () => {
    const root = mkdtempSync(join(tmpdir(), 'make-dirs-'));
    expect(await G.makeDirs(join(root, 'a', 'b', 'c'))).toBe(join(root, 'a'));
    expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).toBe(true);
    expect(await G.makeDirs(join(root, 'a', 'b'))).toBeUndefined();
    expect(await G.makeDirs(root)).toBeUndefined();
  });

  it('a file on the way is ENOTDIR, and nothing is created', async () => {
    const root = mkdtempSync(join(tmpdir(), 'make-dirs-'));
    writeFileSync(join(root, 'f'), 'x');
    await expect(G.makeDirs(join(root, 'f', 'g', 'h'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(existsSync(join(root, 'f', 'g'))).toBe(false);
  });

  it.runIf(existsSync('/proc/self'))(
    "under /proc it fails with the file system's error (Node's recursive mkdir hangs there)",
    async () => {
      await expect(G.makeDirs('/proc/mini-gpt-no/such')).rejects.toMatchObject({ code: 'ENOENT' });
    },
  );
});
