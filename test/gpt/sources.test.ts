/**
 * The browser byte sources, in Node (which has Blob and fetch): a Blob read in slices, and a
 * URL read with Range requests from a loopback server, including the ways a server can fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';

const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);

describe('blobSource', () => {
  it('reads slices and names the file in errors', async () => {
    const source = G.blobSource(new File([bytes], 'weights.bin'));
    expect(source.name).toBe('weights.bin');
    expect(source.size).toBe(1000);
    expect([...(await source.read(10, 5))]).toEqual([...bytes.subarray(10, 15)]);
    await expect(source.read(990, 20)).rejects.toThrow(
      'weights.bin: 20 bytes at offset 990 are outside the file (1000 bytes)',
    );
  });

  it('loads a model saved to memory, one tensor per read', async () => {
    const model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 8, vocabSize: 64 }), {
      device: T.cpu,
      seed: 1,
    });
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    await G.saveHFModel(
      {
        write: async (b) => {
          chunks.push(b.slice());
        },
      },
      model,
    );
    const blob = new Blob(chunks);
    let reads = 0;
    const source = G.blobSource(blob, 'model.safetensors');
    const counting = {
      ...source,
      read: (o: number, n: number) => {
        reads++;
        return source.read(o, n);
      },
    };
    const loaded = await G.loadHFModel(counting, model.config, T.cpu);
    expect(reads).toBe(2 + loaded.params.size); // header length, header, then one read per tensor
    for (const [name, p] of model.params)
      expect(await loaded.params.get(name)!.data.toArray()).toEqual(await p.data.toArray());
  });
});

describe('fetchSource', () => {
  let server: Server;
  let base: string;
  let etag = '"v1"';
  const ranges: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const range = req.headers.range;
      ranges.push(range ?? '');
      if (req.url === '/missing') return void res.writeHead(404, 'Not Found').end();
      if (req.url === '/no-range') return void res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
      const ifRange = req.headers['if-range'];
      const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
      if (!m || (ifRange && ifRange !== etag)) return void res.writeHead(200, { ETag: etag }).end(bytes);
      const [start, end] = [Number(m[1]), Math.min(Number(m[2]), bytes.length - 1)];
      const body = req.url === '/short' && start > 0 ? bytes.subarray(start, end) : bytes.subarray(start, end + 1);
      res
        .writeHead(206, {
          ETag: etag,
          'Content-Range': `bytes ${start}-${end}/${bytes.length}`,
          'Content-Length': body.length,
        })
        .end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the size from Content-Range and each slice with its own Range request', async () => {
    ranges.length = 0;
    const source = await G.fetchSource(`${base}/model.safetensors`);
    expect(source.size).toBe(1000);
    expect([...(await source.read(100, 50))]).toEqual([...bytes.subarray(100, 150)]);
    expect(ranges).toEqual(['bytes=0-0', 'bytes=100-149']);
  });

  it('keeps the body of a server that ignores Range', async () => {
    const source = await G.fetchSource(`${base}/no-range`);
    expect(source.size).toBe(1000);
    expect([...(await source.read(998, 2))]).toEqual([...bytes.subarray(998)]);
  });

  it('names the URL and the problem: HTTP errors, a file replaced mid-read, short answers, refused connections', async () => {
    await expect(G.fetchSource(`${base}/missing`)).rejects.toThrow(`${base}/missing: HTTP 404 Not Found`);
    const source = await G.fetchSource(`${base}/model.safetensors`);
    etag = '"v2"';
    await expect(source.read(0, 8)).rejects.toThrow(
      `${base}/model.safetensors: the file changed on the server while it was being read`,
    );
    etag = '"v1"';
    const short = await G.fetchSource(`${base}/short`);
    await expect(short.read(10, 20)).rejects.toThrow(`${base}/short: got 19 of 20 bytes at offset 10`);
    await expect(G.fetchSource('http://127.0.0.1:9/model.safetensors')).rejects.toThrow(
      /^http:\/\/127\.0\.0\.1:9\/model\.safetensors: /,
    );
  });
});
