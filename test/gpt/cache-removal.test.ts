// Removing a model from the shared Hugging Face cache deletes only what is the cache's own:
// a snapshot's links (never what they point to outside the cache), a blob only when it is an
// entry of the repository's own blobs/ that no other snapshot refers to, and it reports only
// the bytes it freed. Links to folders or files outside the cache, a dangling link and a
// snapshot folder that is itself a link are the hostile layouts checked here.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { describe, expect, it } from 'vitest';
import { fakeCommit, writePythonCache } from '../helpers/fake-hub.js';

const REPO = 'someone/tiny';
const main = fakeCommit('main');
const older = fakeCommit('older');
const files = { 'config.json': Buffer.from('{"n_embd": 4}'), 'model.safetensors': Buffer.alloc(3000, 7) };

/** A cache holding REPO at `main`, and a folder outside it with the user's own files. */
function setUp() {
  const root = mkdtempSync(join(tmpdir(), 'cache-rm-'));
  const cache = join(root, 'hub');
  const outside = join(root, 'my-models');
  mkdirSync(outside);
  writeFileSync(join(outside, 'notes.txt'), 'mine');
  writeFileSync(join(outside, 'model.safetensors'), Buffer.alloc(5000, 1));
  writeFileSync(join(outside, 'config.json'), '{}');
  const snapshot = writePythonCache(cache, REPO, main, files);
  return { cache, outside, snapshot, folder: join(cache, 'models--someone--tiny') };
}

describe('removeCachedModel', () => {
  it('a snapshot whose files link outside the cache: only the links go, nothing outside is counted', async () => {
    const { cache, outside } = setUp();
    const snapshot = join(cache, 'models--someone--tiny', 'snapshots', older);
    mkdirSync(snapshot, { recursive: true });
    symlinkSync(join(outside, 'model.safetensors'), join(snapshot, 'model.safetensors'));
    symlinkSync(join(outside, 'notes.txt'), join(snapshot, 'config.json'));
    const freed = await G.removeCachedModel(cache, REPO, older);
    expect(freed).toBe(0);
    expect(existsSync(snapshot)).toBe(false);
    expect(readFileSync(join(outside, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(outside, 'model.safetensors'))).toBe(true);
  });

  it('a snapshot folder that is a link to a folder outside the cache: the link goes, the folder stays whole', async () => {
    const { cache, outside, folder } = setUp();
    symlinkSync(outside, join(folder, 'snapshots', older));
    writeFileSync(join(folder, 'refs', 'dev'), older);
    const freed = await G.removeCachedModel(cache, REPO, 'dev');
    expect(freed).toBe(0);
    expect(existsSync(join(folder, 'snapshots', older))).toBe(false);
    expect(existsSync(join(folder, 'refs', 'dev'))).toBe(false);
    expect(readFileSync(join(outside, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(outside, 'model.safetensors'))).toBe(true);
  });

  it('the last snapshot, linked outside: the repository folder goes, the outside folder stays', async () => {
    const { cache, outside, folder } = setUp();
    rmSync(join(folder, 'snapshots', main), { recursive: true });
    symlinkSync(outside, join(folder, 'snapshots', main));
    const freed = await G.removeCachedModel(cache, REPO, 'main');
    // The blobs left in blobs/ are the cache's own and freed with the folder.
    expect(freed).toBe(files['config.json'].length + files['model.safetensors'].length);
    expect(existsSync(folder)).toBe(false);
    expect(readFileSync(join(outside, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(outside, 'model.safetensors'))).toBe(true);
  });

  it('a whole repository whose snapshot links outside counts only its own blobs', async () => {
    const { cache, outside, folder } = setUp();
    const snapshot = join(folder, 'snapshots', older);
    mkdirSync(snapshot);
    symlinkSync(join(outside, 'model.safetensors'), join(snapshot, 'model.safetensors'));
    const freed = await G.removeCachedModel(cache, REPO);
    // The blobs and refs/main (a 40-character commit), nothing the link points to.
    expect(freed).toBe(files['config.json'].length + files['model.safetensors'].length + 40);
    expect(existsSync(folder)).toBe(false);
    expect(existsSync(join(outside, 'model.safetensors'))).toBe(true);
  });

  it('a blobs/ folder that is a link outside the cache: no blob is deleted through it', async () => {
    const { cache, outside, folder } = setUp();
    const blobs = join(folder, 'blobs');
    const elsewhere = join(outside, 'blobs');
    mkdirSync(elsewhere);
    for (const name of ['a', 'b']) writeFileSync(join(elsewhere, name), 'x');
    rmSync(blobs, { recursive: true });
    symlinkSync(elsewhere, blobs);
    rmSync(join(folder, 'snapshots', main), { recursive: true });
    mkdirSync(join(folder, 'snapshots', main));
    symlinkSync('../../blobs/a', join(folder, 'snapshots', main, 'model.safetensors'));
    const freed = await G.removeCachedModel(cache, REPO, main);
    expect(freed).toBe(0);
    expect(existsSync(join(elsewhere, 'a'))).toBe(true);
  });

  it('a blob another snapshot still uses is kept; a blob only this one used is freed and counted', async () => {
    const { cache, folder } = setUp();
    const other = { ...files, 'model.safetensors': Buffer.alloc(1000, 9) };
    writePythonCache(cache, REPO, older, other, 'dev');
    const freed = await G.removeCachedModel(cache, REPO, 'dev');
    expect(freed).toBe(1000); // config.json is shared with main
    expect(existsSync(join(folder, 'snapshots', main, 'config.json'))).toBe(true);
    expect(readFileSync(join(folder, 'snapshots', main, 'model.safetensors')).length).toBe(3000);
  });

  it('a dangling snapshot link can be removed by --revision', async () => {
    const { cache, folder } = setUp();
    symlinkSync('/nonexistent/mini-gpt-test', join(folder, 'snapshots', older));
    writeFileSync(join(folder, 'refs', 'dev'), older);
    await expect(G.removeCachedModel(cache, REPO, 'dev')).resolves.toBe(0);
    expect(existsSync(join(folder, 'refs', 'dev'))).toBe(false);
    expect(existsSync(join(folder, 'snapshots', main, 'config.json'))).toBe(true);
  });

  it('a repository folder that is itself a link outside the cache: the link goes, nothing is counted', async () => {
    const { cache, outside } = setUp();
    const link = join(cache, 'models--someone--linked');
    symlinkSync(outside, link);
    await expect(G.removeCachedModel(cache, 'someone/linked')).resolves.toBe(0);
    expect(existsSync(link)).toBe(false);
    expect(readFileSync(join(outside, 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('removeUnfinishedSaves', () => {
  it('removes only the folders a save leaves, not a link or a file of the user that shares the prefix', () => {
    const root = mkdtempSync(join(tmpdir(), 'unfinished-'));
    const outside = join(root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'notes.txt'), 'mine');
    const dir = join(root, 'run', 'checkpoint');
    mkdirSync(join(root, 'run'));
    const ours = join(root, 'run', 'checkpoint.saving-0123abcd');
    mkdirSync(ours);
    writeFileSync(join(ours, 'model.safetensors'), 'x');
    symlinkSync(outside, join(root, 'run', 'checkpoint.saving-fedc9876'));
    writeFileSync(join(root, 'run', 'checkpoint.saving-notes.txt'), 'mine');
    expect(G.removeUnfinishedSaves(dir)).toEqual(['checkpoint.saving-0123abcd', 'checkpoint.saving-fedc9876']);
    expect(existsSync(ours)).toBe(false);
    expect(readFileSync(join(outside, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(root, 'run', 'checkpoint.saving-notes.txt'))).toBe(true);
  });
});
