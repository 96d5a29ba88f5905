// mini-gpt download against a hub emulated on loopback (test/helpers/fake-hub.ts): a fresh
// download lands in the shared Hugging Face layout; a broken transfer resumes with a Range
// request; wrong sizes and hashes keep nothing; missing files, pickle-only weights and gated
// repositories get a sentence that says what to do; an unreachable hub names URL, cause and
// HF_ENDPOINT; models of the older mini-gpt cache are moved in rather than fetched again.
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeHub, closedPort, fakeCommit, gitBlobId, hubCaches, sha256 } from '../helpers/fake-hub.js';
import { runCli } from './run-cli.js';

const model = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
const config = Buffer.from(
  JSON.stringify({ vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 }),
);
const GPT2 = 'openai-community/gpt2';
const commit = fakeCommit('gpt2');

const hub = new FakeHub();
beforeAll(async () => {
  await hub.start();
  hub.repos.set(GPT2, {
    commit,
    files: { 'config.json': config, 'model.safetensors': model, 'pytorch_model.bin': Buffer.from('pickle') },
    xet: true,
  });
  hub.repos.set('someone/pickled', {
    commit: fakeCommit('p'),
    files: { 'config.json': config, 'pytorch_model.bin': Buffer.from('pickle') },
  });
  hub.repos.set('someone/configless', { commit: fakeCommit('c'), files: { 'model.safetensors': model } });
  hub.repos.set('someone/gated', {
    commit: fakeCommit('g'),
    files: { 'config.json': config, 'model.safetensors': model },
    gated: true,
    token: 'hf_granted',
  });
});
afterAll(() => hub.stop());
beforeEach(() => {
  hub.requests.length = 0;
});

/** A fresh shared cache (HF_HUB_CACHE) and older mini-gpt cache for one test. */
function caches() {
  const c = hubCaches(hub);
  return { ...c, snapshot: join(c.folder, 'snapshots', commit), blob: join(c.folder, 'blobs', sha256(model)) };
}

describe('mini-gpt download', () => {
  it('fills the shared layout: refs/main, snapshots/<commit>/ symlinks, blobs/ by SHA-256 and git blob id', async () => {
    const c = caches();
    const r = await runCli(['download', 'gpt2'], { env: c.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`gpt2: ${c.snapshot}`);
    expect(readFileSync(join(c.folder, 'refs', 'main'), 'utf8')).toBe(commit);
    expect(readlinkSync(join(c.snapshot, 'model.safetensors'))).toBe(join('..', '..', 'blobs', sha256(model)));
    expect(readlinkSync(join(c.snapshot, 'config.json'))).toBe(join('..', '..', 'blobs', gitBlobId(config)));
    expect(Buffer.compare(readFileSync(join(c.snapshot, 'model.safetensors')), model)).toBe(0);
    expect(readFileSync(join(c.snapshot, 'config.json'), 'utf8')).toBe(config.toString());
    expect(readdirSync(join(c.folder, 'blobs')).sort()).toEqual([gitBlobId(config), sha256(model)].sort());
    expect(readdirSync(c.snapshot).sort()).toEqual(['config.json', 'model.safetensors']); // not the pickle
    // Through the resolve endpoint (which offered Xet) and its redirect to the CDN.
    const resolves = hub.requests.filter((q) => q.url.startsWith(`/${GPT2}/resolve/${commit}/model.safetensors`));
    expect(resolves.some((q) => q.accept?.includes('application/vnd.xet-fileinfo+json'))).toBe(true);
    expect(resolves.some((q) => !q.accept?.includes('xet'))).toBe(true);
    expect(hub.requests.some((q) => q.url.startsWith(`/cdn/${sha256(model)}`) && q.range === undefined)).toBe(true);
    // Again: already cached, nothing fetched.
    hub.requests.length = 0;
    expect((await runCli(['download', 'gpt2'], { env: c.env })).code).toBe(0);
    expect(hub.requests.filter((q) => q.url.startsWith('/cdn/'))).toEqual([]);
  });

  it('HF_HOME places the cache in $HF_HOME/hub, and a repository id and --revision <commit> are accepted', async () => {
    const c = caches();
    const home = join(c.root, 'hf-home');
    const r = await runCli(['download', GPT2, '--revision', commit], {
      env: { ...c.env, HF_HUB_CACHE: '', HF_HOME: home },
    });
    expect(r.code, r.stderr).toBe(0);
    const folder = join(home, 'hub', 'models--openai-community--gpt2');
    expect(existsSync(join(folder, 'snapshots', commit, 'model.safetensors'))).toBe(true);
    expect(readdirSync(join(folder, 'refs'))).toEqual([]); // a commit is no ref, as in huggingface_hub
    const listed = await runCli(['cache', '--json'], { env: { ...c.env, HF_HUB_CACHE: '', HF_HOME: home } });
    expect(JSON.parse(listed.stdout).huggingFace).toMatchObject({
      warnings: [],
      models: [{ repo: GPT2, revisions: [{ commit, refs: [], usable: true }] }],
    });
  });

  it('resumes a broken transfer with a Range request in the same run', async () => {
    const c = caches();
    hub.faults.breakNext = 'model.safetensors';
    const r = await runCli(['download', 'gpt2'], { env: c.env });
    expect(r.code, r.stderr).toBe(0);
    const ranges = hub.requests.filter((q) => q.url.startsWith('/cdn/')).map((q) => q.range);
    expect(ranges.some((range) => /^bytes=[1-9]\d*-299999$/.test(range ?? ''))).toBe(true);
    expect(Buffer.compare(readFileSync(join(c.snapshot, 'model.safetensors')), model)).toBe(0);
    expect(existsSync(`${c.blob}.incomplete`)).toBe(false);
  });

  it('a transfer that keeps breaking fails after three tries, keeps the part, and the next run resumes it', async () => {
    const c = caches();
    hub.faults.breakNext = 'model.safetensors';
    hub.faults.breakTimes = 3;
    const broken = await runCli(['download', 'gpt2'], { env: c.env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /error: model\.safetensors: the transfer broke at \d+ of 300000 bytes \(.*, 3 tries\); run the same command again to resume/,
    );
    expect(existsSync(c.blob)).toBe(false);
    expect(existsSync(join(c.snapshot, 'model.safetensors'))).toBe(false);
    expect(existsSync(join(c.folder, 'refs', 'main'))).toBe(false);
    const partial = lstatSync(`${c.blob}.incomplete`).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(model.length);

    hub.requests.length = 0;
    const resumed = await runCli(['download', 'gpt2'], { env: c.env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(hub.requests.map((q) => q.range)).toContain(`bytes=${partial}-${model.length - 1}`);
    expect(Buffer.compare(readFileSync(join(c.snapshot, 'model.safetensors')), model)).toBe(0);
    expect(existsSync(`${c.blob}.incomplete`)).toBe(false);
    expect(readFileSync(join(c.folder, 'refs', 'main'), 'utf8')).toBe(commit);
  });

  /** Downloads with one server fault switched on; the command must fail and keep no file. */
  async function rejected(fault: 'wrongSha' | 'lieAboutSize', message: RegExp): Promise<void> {
    const c = caches();
    hub.faults[fault] = 'model.safetensors';
    const r = await runCli(['download', 'gpt2'], { env: c.env });
    hub.faults[fault] = undefined;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(join(c.folder, 'blobs'))).toEqual([gitBlobId(config)]); // only the good config.json
    expect(existsSync(join(c.snapshot, 'model.safetensors'))).toBe(false);
  }

  it('rejects a file whose SHA-256 differs from the one the hub states, and deletes it', async () => {
    await rejected('wrongSha', /SHA-256 [0-9a-f]{64} does not match the server's [0-9a-f]{64}; the file was deleted/);
  });

  it('rejects a size mismatch and deletes the file', async () => {
    await rejected('lieAboutSize', /got 300000 bytes but the server announced 300010/);
  });

  it('a repository without model.safetensors or config.json, or a revision it lacks, is one sentence', async () => {
    const c = caches();
    const noConfig = await runCli(['download', 'someone/configless'], { env: c.env });
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr).toBe(
      'fetching someone/configless (main) from ' +
        hub.endpoint +
        ` into ${c.env.HF_HUB_CACHE}\nerror: someone/configless (main) has no config.json\n`,
    );
    const noRevision = await runCli(['download', 'gpt2', '--revision', 'v9'], { env: c.env });
    expect(noRevision.stderr).toContain('error: openai-community/gpt2 has no revision "v9" (HTTP 404)');
    const noRepo = await runCli(['download', 'nobody/nothing'], { env: c.env });
    expect(noRepo.stderr).toContain(
      `error: no repository nobody/nothing on ${hub.endpoint} (HTTP 401); if it is private, set HF_TOKEN to a token that can read it`,
    );
    expect(existsSync(join(c.env.HF_HUB_CACHE, 'models--someone--configless'))).toBe(false);
  });

  it('pickle-only weights are refused before any download, saying why', async () => {
    const c = caches();
    const r = await runCli(['download', 'someone/pickled'], { env: c.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: someone\/pickled \(main\) has its weights only as a PyTorch pickle \(pytorch_model\.bin\): mini-gpt loads safetensors only, because unpickling runs any code the file contains/,
    );
    expect(hub.requests.filter((q) => q.url.includes('/resolve/'))).toEqual([]);
  });

  it('a gated repository: no token is a 401 naming HF_TOKEN, a token without access a 403, the right token works', async () => {
    const c = caches();
    const anonymous = await runCli(['download', 'someone/gated'], { env: c.env });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain(
      `error: someone/gated is gated: accept its conditions at ${hub.endpoint}/someone/gated, then set HF_TOKEN to an access token of that account (HTTP 401, no token was sent)`,
    );
    const denied = await runCli(['download', 'someone/gated'], { env: { ...c.env, HF_TOKEN: 'hf_other' } });
    expect(denied.stderr).toContain(
      'error: someone/gated is gated and the token in HF_TOKEN has no access to it (HTTP 403)',
    );
    expect(existsSync(join(c.env.HF_HUB_CACHE, 'models--someone--gated', 'snapshots'))).toBe(false);
    hub.requests.length = 0;
    const granted = await runCli(['download', 'someone/gated'], { env: { ...c.env, HF_TOKEN: 'hf_granted' } });
    expect(granted.code, granted.stderr).toBe(0);
    expect(
      hub.requests.filter((q) => q.url.includes('/resolve/')).every((q) => q.authorization === 'Bearer hf_granted'),
    ).toBe(true);
  });

  it('with no network, names the URL, the cause and HF_ENDPOINT (not just "fetch failed")', async () => {
    const closed = await closedPort();
    const c = caches();
    const r = await runCli(['download', 'gpt2'], { env: { ...c.env, HF_ENDPOINT: `http://127.0.0.1:${closed}` } });
    expect(r.code).toBe(1);
    const error = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(error).toEqual([
      `error: could not reach http://127.0.0.1:${closed}/api/models/openai-community/gpt2/revision/main: connect ECONNREFUSED 127.0.0.1:${closed}, 3 tries (is the network up? the hub is HF_ENDPOINT=http://127.0.0.1:${closed})`,
    ]);
  });

  it('moves a model of the older mini-gpt cache in, once, after checking it against the hub, instead of fetching it', async () => {
    const c = caches();
    const old = join(c.env.MINI_GPT_CACHE, 'models', 'gpt2');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'model.safetensors'), model);
    writeFileSync(join(old, 'config.json'), config);
    const r = await runCli(['download', 'gpt2'], { env: c.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`moved ${join(old, 'model.safetensors')} into the Hugging Face cache (${c.blob})`);
    expect(hub.requests.filter((q) => q.url.startsWith('/cdn/') || q.url.includes('/resolve/'))).toEqual([]);
    expect(Buffer.compare(readFileSync(join(c.snapshot, 'model.safetensors')), model)).toBe(0);
    expect(existsSync(old)).toBe(false);
  });

  it('an unknown model name is a usage error', async () => {
    const r = await runCli(['download', 'gpt3'], { env: { HF_ENDPOINT: hub.endpoint } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /unknown model "gpt3": use a GPT-2 name \(gpt2, gpt2-medium, gpt2-large, gpt2-xl\) or a hub repository id \(owner\/name\)/,
    );
  });
});
