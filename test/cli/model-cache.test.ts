// A model placed in the shared Hugging Face cache the way Python's huggingface_hub leaves it
// (blobs/, relative symlinks in snapshots/<commit>/, refs/main) is used by generate, eval and
// info without a single request to the hub, offline or not; --revision picks a snapshot;
// --verbose prints how --model resolved; the older mini-gpt cache is still found; `mini-gpt
// cache` lists both caches with sizes and removes a model.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeHub, closedPort, fakeCommit, writePythonCache } from '../helpers/fake-hub.js';
import { VERDICT, runCli } from './run-cli.js';

const REPO = 'someone/tiny-gpt2';
const main = fakeCommit('main');
const older = fakeCommit('older');
const hub = new FakeHub();
let files: Record<string, Buffer>;

beforeAll(async () => {
  await hub.start();
  const dir = mkdtempSync(join(tmpdir(), 'tiny-model-'));
  const model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 16 }), { seed: 3 });
  await G.saveModel(dir, model);
  model.dispose();
  files = {
    'config.json': readFileSync(join(dir, 'config.json')),
    'model.safetensors': readFileSync(join(dir, 'model.safetensors')),
  };
  hub.repos.set(REPO, { commit: main, files });
});
afterAll(() => hub.stop());
beforeEach(() => {
  hub.requests.length = 0;
  hub.fileBytesServed = 0;
});

/** An HF_HOME whose hub/ holds REPO at two commits (main and an older one), as Python writes it. */
function pythonCache() {
  const home = mkdtempSync(join(tmpdir(), 'hf-home-'));
  const snapshot = writePythonCache(join(home, 'hub'), REPO, main, files);
  writePythonCache(join(home, 'hub'), REPO, older, files, null);
  const env = {
    HF_HOME: home,
    HF_HUB_CACHE: '',
    HF_ENDPOINT: hub.endpoint,
    HF_TOKEN: '',
    HF_TOKEN_PATH: join(home, 'no-token'),
    MINI_GPT_CACHE: join(home, 'mini-gpt'),
  };
  return { home, snapshot, env };
}

describe('models from the shared Hugging Face cache', () => {
  it('generate, eval and info use a Python-layout cache offline, with zero requests to the hub', async () => {
    const { snapshot, env } = pythonCache();
    const offline = { ...env, HF_HUB_OFFLINE: '1' };
    const info = await runCli(['info', '--model', REPO, '--json'], { env: offline });
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).model).toMatchObject({
      path: snapshot,
      config: { embedDim: 32, contextLength: 16 },
    });
    const generated = await runCli(['generate', '--model', REPO, '--prompt', 'Every effort', '--max-new-tokens', '3'], {
      env: offline,
    });
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toMatch(/^Every effort.+/);
    const evaluated = await runCli(['eval', '--model', REPO, '--data', VERDICT, '--max-batches', '1', '--json'], {
      env: offline,
    });
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout).loss).toBeGreaterThan(0);
    expect(hub.requests).toEqual([]);
  });

  it('a cached model is used without a request even when online; --revision picks a commit; --verbose says how it resolved', async () => {
    const { home, snapshot, env } = pythonCache();
    const r = await runCli(['--verbose', 'info', '--model', REPO], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `model: ${REPO} is no path: hub repository ${REPO}, revision main\nmodel: found in the Hugging Face cache: ${snapshot}\n`,
    );
    const byCommit = await runCli(['info', '--model', REPO, '--revision', older, '--json'], { env });
    expect(JSON.parse(byCommit.stdout).model.path).toBe(
      join(home, 'hub', 'models--someone--tiny-gpt2', 'snapshots', older),
    );
    expect(hub.requests).toEqual([]);
  });

  it('offline, a missing model or revision is one line naming the cache folder searched', async () => {
    const { home, env } = pythonCache();
    const r = await runCli(['generate', '--model', REPO, '--revision', 'v2', '--prompt', 'x'], {
      env: { ...env, HF_HUB_OFFLINE: '1' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: ${REPO} is not in the Hugging Face cache (searched ${join(home, 'hub', 'models--someone--tiny-gpt2')}) and HF_HUB_OFFLINE is set: download it with a network: npx mini-gpt download ${REPO} --revision v2\n`,
    );
    expect(hub.requests).toEqual([]);
  });

  it('a model not in the cache is downloaded into it by the command that needs it; with no network, one line names the folder, URL, cause and HF_ENDPOINT', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hf-home-'));
    const env = {
      HF_HOME: home,
      HF_HUB_CACHE: '',
      HF_ENDPOINT: hub.endpoint,
      HF_TOKEN: '',
      HF_TOKEN_PATH: join(home, 'no-token'),
      MINI_GPT_CACHE: join(home, 'mini-gpt'),
    };
    const folder = join(home, 'hub', 'models--someone--tiny-gpt2');
    const port = await closedPort();
    const unreachable = `http://127.0.0.1:${port}`;
    const down = await runCli(['generate', '--model', REPO, '--prompt', 'x'], {
      env: { ...env, HF_ENDPOINT: unreachable },
    });
    expect(down.code).toBe(1);
    expect(down.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      `error: ${REPO} is not in the Hugging Face cache (searched ${folder}), and could not reach ${unreachable}/api/models/${REPO}/revision/main: connect ECONNREFUSED 127.0.0.1:${port}, 3 tries (is the network up? the hub is HF_ENDPOINT=${unreachable})`,
    ]);
    const r = await runCli(['--verbose', 'eval', '--model', REPO, '--data', VERDICT, '--max-batches', '1'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `model: not in the Hugging Face cache: no complete snapshot of main in ${folder}\nmodel: downloading into ${join(home, 'hub')}\n`,
    );
    expect(readFileSync(join(folder, 'refs', 'main'), 'utf8')).toBe(main);
    const info = await runCli(['info', '--model', REPO, '--json'], { env });
    expect(JSON.parse(info.stdout).model.path).toBe(join(folder, 'snapshots', main));
  });

  it('info on a repository the cache lacks reads config.json and the weights header with two ranged requests, downloads nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hf-home-'));
    const env = {
      HF_HOME: home,
      HF_HUB_CACHE: '',
      HF_ENDPOINT: hub.endpoint,
      HF_TOKEN: '',
      HF_TOKEN_PATH: join(home, 'no-token'),
      MINI_GPT_CACHE: join(home, 'mini-gpt'),
    };
    const weights = files['model.safetensors']!;
    const headerBytes = Number(weights.readBigUInt64LE(0));
    const r = await runCli(['info', '--model', REPO, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model).toMatchObject({
      path: null,
      hub: { repo: REPO, revision: 'main', commit: main },
      config: { embedDim: 32, contextLength: 16 },
      file: { dtype: 'float32', bytes: weights.length },
    });
    // config.json whole, then 8 bytes and the header of a 6.5 MB file: nothing more.
    expect(hub.fileBytesServed).toBe(files['config.json']!.length + 8 + headerBytes);
    const ranges = hub.requests.filter((q) => q.range).map((q) => q.range);
    expect([...new Set(ranges)]).toEqual(['bytes=0-7', `bytes=8-${8 + headerBytes - 1}`]);
    expect(existsSync(join(home, 'hub', 'models--someone--tiny-gpt2'))).toBe(false);
    const text = await runCli(['info', '--model', REPO], { env });
    expect(text.stdout).toContain(
      `model: ${REPO} at main (commit ${main.slice(0, 12)}), read on the hub, not downloaded`,
    );
    // A weights file that does not fit its config is refused as generate would refuse it.
    hub.repos.set('someone/mismatched', {
      commit: fakeCommit('mismatched'),
      files: {
        ...files,
        'config.json': Buffer.from(JSON.stringify({ ...JSON.parse(files['config.json']!.toString()), n_embd: 64 })),
      },
    });
    const bad = await runCli(['info', '--model', 'someone/mismatched'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: someone\/mismatched\/model.safetensors \(main\): tensor .* has shape/);
  });

  it('a missing path whose folder exists is a usage error, not a repository id to download', async () => {
    const { env } = pythonCache();
    const r = await runCli(['info', '--model', 'test/no-such-run'], { env }); // "test/no-such-run" is also a valid repository id
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: test/no-such-run: no such file or folder\n');
    expect(hub.requests).toEqual([]);
  });

  it('a model of the older mini-gpt cache is still found, offline, and --verbose says how to move it', async () => {
    const { env } = pythonCache();
    const old = join(env.MINI_GPT_CACHE, 'models', 'gpt2');
    mkdirSync(old, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(old, name), bytes);
    const r = await runCli(['--verbose', 'info', '--model', 'gpt2', '--json'], {
      env: { ...env, HF_HUB_OFFLINE: '1' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model.path).toBe(old);
    expect(r.stderr).toContain(
      `model: found in the older mini-gpt cache: ${old} (npx mini-gpt download gpt2 moves it into the Hugging Face cache)`,
    );
  });

  it('mini-gpt cache lists both caches with sizes and revisions, and rm removes a model or one revision', async () => {
    const { home, env } = pythonCache();
    const old = join(env.MINI_GPT_CACHE, 'models', 'gpt2');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'model.safetensors'), files['model.safetensors']!);
    const blobBytes = files['config.json']!.length + files['model.safetensors']!.length; // both snapshots share the blobs
    const listed = await runCli(['cache', '--json'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const json = JSON.parse(listed.stdout);
    expect(json.huggingFace.models).toEqual([expect.objectContaining({ repo: REPO, sizeBytes: blobBytes })]);
    expect(
      json.huggingFace.models[0].revisions
        .map((r: { commit: string; refs: string[]; usable: boolean }) => [r.commit, r.refs, r.usable])
        .sort(),
    ).toEqual(
      [
        [main, ['main'], true],
        [older, [], true],
      ].sort(),
    );
    expect(json.miniGpt.models).toEqual([{ name: 'gpt2', path: old, sizeBytes: files['model.safetensors']!.length }]);
    expect(json.sizeBytes).toBe(blobBytes + files['model.safetensors']!.length);
    const text = await runCli(['cache'], { env });
    expect(text.stdout).toMatch(
      new RegExp(
        `^Hugging Face cache: ${join(home, 'hub')}\n  ${REPO}\\s+\\d+\\.\\d MB  main = ${main.slice(0, 10)}; ${older.slice(0, 10)}\n`,
      ),
    );

    const oneRevision = await runCli(['cache', 'rm', REPO, '--revision', older], { env });
    expect(oneRevision.code, oneRevision.stderr).toBe(0);
    expect(oneRevision.stdout).toContain('0 B freed'); // its blobs are main's too
    const folder = join(home, 'hub', 'models--someone--tiny-gpt2');
    expect(existsSync(join(folder, 'snapshots', older))).toBe(false);
    expect(existsSync(join(folder, 'snapshots', main, 'model.safetensors'))).toBe(true);

    const all = await runCli(['cache', 'rm', REPO], { env });
    expect(all.stdout).toMatch(/removed someone\/tiny-gpt2 from .*: \d+\.\d MB freed/);
    expect(existsSync(folder)).toBe(false);
    const gpt2 = await runCli(['cache', 'rm', 'gpt2'], { env });
    expect(gpt2.stdout).toContain(`removed ${old}`);
    expect(existsSync(old)).toBe(false);
    const none = await runCli(['cache', 'rm', 'gpt2'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /error: gpt2 is not cached \(looked in .*models--openai-community--gpt2 and .*models\)/,
    );
    expect(hub.requests).toEqual([]);
  });
});
