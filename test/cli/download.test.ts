// mini-gpt download against a hub served on loopback: a transfer that breaks halfway resumes
// with an HTTP Range request, the SHA-256 is checked, and a size mismatch is rejected without
// leaving a file under the final name.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const model = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
const config = Buffer.from(JSON.stringify({ vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: Server;
let endpoint = '';
const state = { breakNext: false, lieAboutSize: false, wrongSha: false, rangeRequests: [] as string[], encodings: [] as string[] };

beforeAll(async () => {
  server = createServer((req, res) => {
    const file = req.url?.endsWith('/resolve/main/model.safetensors') ? model : req.url?.endsWith('/resolve/main/config.json') ? config : null;
    if (!file || !req.url?.startsWith('/openai-community/gpt2/')) { res.writeHead(404).end(); return; }
    const size = state.lieAboutSize && file === model ? file.length + 10 : file.length;
    state.encodings.push(String(req.headers['accept-encoding']));
    const digest = state.wrongSha && file === model ? sha(config) : sha(file);
    const headers = { 'x-linked-size': String(size), 'x-linked-etag': `"${digest}"`, 'accept-ranges': 'bytes' };
    if (req.method === 'HEAD') { res.writeHead(200, { ...headers, 'content-length': String(size) }).end(); return; }
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (range) state.rangeRequests.push(req.headers.range!);
    const body = file.subarray(start);
    res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(body.length), ...(range ? { 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` } : {}) });
    if (state.breakNext && file === model) {
      state.breakNext = false;
      res.write(body.subarray(0, body.length / 2), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => { server.close(); });

describe('mini-gpt download', () => {
  it('resumes a broken transfer with a Range request and verifies the file', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'mini-gpt-cache-'));
    const env = { HF_ENDPOINT: endpoint, MINI_GPT_CACHE: cache };
    const target = join(cache, 'models', 'gpt2', 'model.safetensors');
    state.breakNext = true;
    const broken = await runCli(['download', 'gpt2'], { env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/error: .*the transfer broke at \d+ of 300000 bytes.*run the same command again to resume/);
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.partial`)).toBe(true);
    const resumed = await runCli(['download', 'gpt2'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(state.rangeRequests.length).toBeGreaterThan(0);
    expect(Buffer.compare(readFileSync(target), model)).toBe(0);
    expect(readFileSync(join(cache, 'models', 'gpt2', 'config.json'), 'utf8')).toBe(config.toString());
    expect(existsSync(`${target}.partial`)).toBe(false);
    // No compressed transfers (fetch may repeat the token: "identity, identity").
    expect(state.encodings.every((e) => e.split(',').every((token) => token.trim() === 'identity')), state.encodings.join(' | ')).toBe(true);
  });

  /** Downloads with one server fault switched on; the command must fail and keep no file. */
  async function rejected(fault: 'wrongSha' | 'lieAboutSize', message: RegExp): Promise<void> {
    const cache = mkdtempSync(join(tmpdir(), 'mini-gpt-cache-'));
    state[fault] = true;
    const r = await runCli(['download', 'gpt2'], { env: { HF_ENDPOINT: endpoint, MINI_GPT_CACHE: cache } });
    state[fault] = false;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(cache, 'models', 'gpt2', 'model.safetensors'))).toBe(false);
  }

  it('rejects a file whose SHA-256 differs from the one the hub states', async () => {
    await rejected('wrongSha', /SHA-256 [0-9a-f]{64} does not match the server's [0-9a-f]{64}; the file was deleted/);
  });

  it('rejects a size mismatch and keeps nothing under the final name', async () => {
    await rejected('lieAboutSize', /got 300000 bytes but the server announced 300010/);
  });

  it('an unknown model name is a usage error', async () => {
    const r = await runCli(['download', 'gpt3'], { env: { HF_ENDPOINT: endpoint } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown model "gpt3": use one of gpt2, gpt2-medium, gpt2-large, gpt2-xl/);
  });
});
