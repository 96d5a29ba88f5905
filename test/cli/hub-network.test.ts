// The network as it really fails (issue 27, item 6), against a hub emulated on loopback: a
// server that accepts connections and never answers, a busy hub (503), a transfer that stalls,
// a repository that is not a GPT-2, a file larger than the disk, a mirror's token without the
// hf_ prefix, a damaged cached file, and HF_HUB_CACHE pointing at a file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeHub, fakeCommit, hubCaches, sha256 } from '../helpers/fake-hub.js';
import { runCli } from './run-cli.js';

const model = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 253));
const gpt2Config = { vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 };
const config = Buffer.from(JSON.stringify(gpt2Config));
const GPT2 = 'openai-community/gpt2';
const commit = fakeCommit('gpt2-network');

const hub = new FakeHub();
beforeAll(async () => {
  await hub.start();
  hub.repos.set(GPT2, { commit, files: { 'config.json': config, 'model.safetensors': model } });
  hub.repos.set('someone/llama', {
    commit: fakeCommit('llama'),
    files: {
      'config.json': Buffer.from(JSON.stringify({ ...gpt2Config, model_type: 'llama' })),
      'model.safetensors': model,
    },
  });
  hub.repos.set('someone/gated', {
    commit: fakeCommit('gated'),
    files: { 'config.json': config, 'model.safetensors': model },
    gated: true,
    token: 'mirror-token-123',
  });
});
afterAll(() => hub.stop());
beforeEach(() => {
  hub.requests.length = 0;
});

/** hubCaches with a 1 s download timeout (the stalled-server tests). */
function caches() {
  const c = hubCaches(hub, { HF_HUB_DOWNLOAD_TIMEOUT: '1' });
  return { ...c, blob: join(c.folder, 'blobs', sha256(model)) };
}

/** A TCP server that accepts every connection and never says a word. */
async function silentServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => sockets.length,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the network', () => {
  it('a hub that accepts and never answers is given up on after the timeout and two retries, in one line', async () => {
    const silent = await silentServer();
    try {
      const c = caches();
      const started = Date.now();
      const r = await runCli(['download', 'gpt2'], {
        env: { ...c.env, HF_ENDPOINT: `http://127.0.0.1:${silent.port}` },
      });
      const seconds = (Date.now() - started) / 1000;
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
        `error: could not reach http://127.0.0.1:${silent.port}/api/models/${GPT2}/revision/main: no answer in 1 s, 3 tries (is the network up? the hub is HF_ENDPOINT=http://127.0.0.1:${silent.port})`,
      ]);
      expect(silent.connections()).toBeGreaterThanOrEqual(3); // one per try (undici may open one more)
      expect(seconds).toBeLessThan(20); // 3 × 1 s + 1 s + 2 s of back-off, and Node's start
    } finally {
      await silent.close();
    }
  }, 30_000);

  it('a busy hub (503) is retried with back-off', async () => {
    const c = caches();
    hub.faults.busy = 2;
    const r = await runCli(['download', 'gpt2'], { env: c.env });
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(c.blob), model)).toBe(0);
  }, 30_000);

  it('a transfer that stalls is cut after the timeout and resumed with a Range request', async () => {
    const c = caches();
    hub.faults.stallNext = 'model.safetensors';
    const r = await runCli(['download', 'gpt2'], { env: c.env });
    expect(r.code, r.stderr).toBe(0);
    const ranges = hub.requests.filter((q) => q.url.startsWith('/cdn/')).map((q) => q.range ?? '');
    expect(ranges.some((range) => /^bytes=[1-9]\d*-199999$/.test(range))).toBe(true);
    expect(Buffer.compare(readFileSync(c.blob), model)).toBe(0);
  }, 30_000);

  it('HF_HUB_DOWNLOAD_TIMEOUT that is not a positive number is one line, exit 2', async () => {
    const c = caches();
    const r = await runCli(['download', 'gpt2'], { env: { ...c.env, HF_HUB_DOWNLOAD_TIMEOUT: 'soon' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: HF_HUB_DOWNLOAD_TIMEOUT="soon": use a number of seconds above 0 (default 10), or leave it unset\n',
    );
  });

  it('a repository whose config.json is not a GPT-2 is refused before its weights are fetched', async () => {
    const c = caches();
    const r = await runCli(['download', 'someone/llama'], { env: c.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: someone/llama (main) is not a GPT-2 model mini-gpt can load (config.json: model_type is "llama", not "gpt2"); its weights were not downloaded',
    );
    expect(hub.requests.filter((q) => q.url.startsWith('/cdn/') || q.url.includes('model.safetensors'))).toEqual([]);
    const generate = await runCli(['generate', '--model', 'someone/llama', '--prompt', 'hi'], { env: c.env });
    expect(generate.code).toBe(1);
    expect(generate.stderr).toContain('model_type is "llama"');
  }, 30_000);

  it('weights larger than the free disk are refused before a byte is written', async () => {
    const c = caches();
    hub.faults.lieAboutSize = 'model.safetensors';
    hub.faults.hugeSize = 1e15;
    try {
      const r = await runCli(['download', 'gpt2'], { env: c.env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /error: model\.safetensors needs 1000000\.0 GB but \S+ has [\d.]+ GB free: free some space, or set HF_HUB_CACHE to a folder on a larger disk\n$/,
      );
      expect(hub.requests.filter((q) => q.url.startsWith('/cdn/'))).toEqual([]);
      expect(existsSync(`${c.blob}.incomplete`)).toBe(false);
    } finally {
      hub.faults.lieAboutSize = undefined;
      hub.faults.hugeSize = undefined;
    }
  });

  it("HF_TOKEN without the hf_ prefix (a mirror's token) is sent, as Python's client sends it", async () => {
    const c = caches();
    const r = await runCli(['download', 'someone/gated'], { env: { ...c.env, HF_TOKEN: 'mirror-token-123' } });
    expect(r.code, r.stderr).toBe(0);
    const resolves = hub.requests.filter((q) => q.url.includes('/resolve/'));
    expect(resolves.length).toBeGreaterThan(0);
    expect(resolves.every((q) => q.authorization === 'Bearer mirror-token-123')).toBe(true);
  });

  it('a cached file cut short is fetched again; --force fetches a damaged one of the right size', async () => {
    const c = caches();
    expect((await runCli(['download', 'gpt2'], { env: c.env })).code).toBe(0);
    writeFileSync(c.blob, model.subarray(0, 1000)); // cut short
    const repaired = await runCli(['download', 'gpt2'], { env: c.env });
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stderr).toContain(
      `${c.blob} is not the hub's model.safetensors (200000 bytes); downloading it again`,
    );
    expect(Buffer.compare(readFileSync(c.blob), model)).toBe(0);

    const damaged = Buffer.from(model);
    damaged.writeUInt8(damaged.readUInt8(5000) ^ 0xff, 5000);
    writeFileSync(c.blob, damaged);
    hub.requests.length = 0;
    expect((await runCli(['download', 'gpt2'], { env: c.env })).code).toBe(0);
    expect(hub.requests.filter((q) => q.url.startsWith('/cdn/'))).toEqual([]); // same size: trusted
    const forced = await runCli(['download', 'gpt2', '--force'], { env: c.env });
    expect(forced.code, forced.stderr).toBe(0);
    expect(createHash('sha256').update(readFileSync(c.blob)).digest('hex')).toBe(sha256(model));
    expect(readdirSync(join(c.folder, 'blobs')).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
  }, 30_000);

  it('HF_HUB_CACHE pointing at a file is one line naming the variable, for download and cache', async () => {
    const c = caches();
    const file = join(c.root, 'a-file');
    writeFileSync(file, 'not a folder');
    for (const args of [['download', 'gpt2'], ['cache'], ['generate', '--model', 'gpt2', '--prompt', 'x']]) {
      const r = await runCli(args, { env: { ...c.env, HF_HUB_CACHE: file } });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(
        `error: HF_HUB_CACHE points the Hugging Face cache at ${file}, which is a file, not a folder: set HF_HUB_CACHE to a folder (or leave it unset)\n`,
      );
    }
  }, 30_000);
});
