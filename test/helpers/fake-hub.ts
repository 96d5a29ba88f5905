/**
 * A Hugging Face hub emulated on loopback (127.0.0.1 only), answering what @huggingface/hub and
 * Python's huggingface_hub ask, the way the real hub answers:
 * - GET  /api/models/<repo>/revision/<rev>      model info: sha (the commit), siblings, gated
 * - POST /api/models/<repo>/paths-info/<rev>     size, git blob id, LFS SHA-256 per path
 * - GET|HEAD /<repo>/resolve/<rev>/<path>        X-Repo-Commit, ETag; an LFS file answers 302 to
 *   the CDN with X-Linked-Etag (its SHA-256) and X-Linked-Size; a small file is served directly
 *   (for a Xet-backed file, a client that accepts it gets the Xet file info instead)
 * - GET  /cdn/<sha256>?…                         the bytes, with Range support
 * Errors carry X-Error-Code / X-Error-Message (RepoNotFound, RevisionNotFound, EntryNotFound,
 * GatedRepo) and the statuses the hub uses (401 for an anonymous request to a missing, private
 * or gated repository, 403 for a token without access). Every request is logged.
 * Also writes a cache in Python's layout, as huggingface_hub would have left it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** git's blob id: SHA-1 of "blob <size>\0" + bytes (the ETag of a small file, its blob name in the cache). */
export const gitBlobId = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const fakeCommit = (seed: string): string => createHash('sha1').update(seed).digest('hex');

export interface FakeRepo {
  commit: string;
  files: Record<string, Buffer>;
  /** Access needs a token (401 without one, 403 with another than `token`). */
  gated?: boolean;
  token?: string;
  /**
   * LFS files stored on Xet, as the hub now stores most: a resolve request that accepts
   * application/vnd.xet-fileinfo+json gets the Xet file info (hash, reconstruction and auth
   * links) instead of the redirect; plain requests still get the redirect to the bytes.
   */
  xet?: boolean;
}

export interface LoggedRequest {
  method: string;
  url: string;
  range?: string;
  accept?: string;
  authorization?: string;
}

const isLfs = (path: string) => /\.(safetensors|bin|h5|msgpack|ot)$/.test(path);

function lfsPointer(b: Buffer): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(b)}\nsize ${b.length}\n`);
}

export class FakeHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly requests: LoggedRequest[] = [];
  /** Bytes of files sent (resolve and CDN answers' bodies, not the API's JSON), over all requests. */
  fileBytesServed = 0;
  /**
   * Faults switched on by a test: the next `breakTimes` (default 1) CDN transfers of `breakNext`
   * stop halfway; `stallNext` sends half and then nothing, the connection kept open; paths-info
   * lies about a size (by 10 bytes, or `hugeSize` bytes) or hash; `busy` answers the next n
   * requests with 503.
   */
  readonly faults: {
    breakNext?: string;
    breakTimes?: number;
    stallNext?: string;
    lieAboutSize?: string;
    hugeSize?: number;
    wrongSha?: string;
    busy?: number;
  } = {};
  endpoint = '';
  private server: Server | null = null;

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }

  private readonly stalled: ServerResponse[] = [];

  async stop(): Promise<void> {
    for (const res of this.stalled) res.socket?.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private blobs(): Map<string, { repo: string; path: string; bytes: Buffer }> {
    const out = new Map<string, { repo: string; path: string; bytes: Buffer }>();
    for (const [repo, r] of this.repos)
      for (const [path, bytes] of Object.entries(r.files)) out.set(sha256(bytes), { repo, path, bytes });
    return out;
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message });
    res.end(JSON.stringify({ error: message }));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      range: req.headers.range,
      accept: req.headers.accept,
      authorization: req.headers.authorization,
    });
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    if (this.faults.busy) {
      this.faults.busy--;
      this.error(res, 503, 'ServiceUnavailable', 'busy, try again');
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|paths-info)\/(.+)$/.exec(url.pathname);
      const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
      const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
      if (api) this.api(res, decodeURIComponent(api[1]!), api[2]!, decodeURIComponent(api[3]!), body);
      else if (resolve) this.resolve(req, res, resolve[1]!, decodeURIComponent(resolve[2]!), resolve[3]!, token);
      else if (cdn) this.serve(req, res, cdn[1]!);
      else this.error(res, 404, 'NotFound', 'not found');
    });
  }

  private revisionOf(res: ServerResponse, name: string, revision: string): FakeRepo | null {
    const repo = this.repos.get(name);
    if (!repo) {
      this.error(res, 401, 'RepoNotFound', 'Repository not found');
      return null;
    }
    if (revision !== 'main' && revision !== 'HEAD' && revision !== repo.commit) {
      this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
      return null;
    }
    return repo;
  }

  private api(res: ServerResponse, name: string, kind: string, revision: string, body: string): void {
    const repo = this.revisionOf(res, name, revision);
    if (!repo) return;
    if (kind === 'revision') {
      const siblings = Object.keys(repo.files).map((rfilename) => ({ rfilename }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          _id: fakeCommit(name).slice(0, 24),
          id: name,
          private: false,
          gated: repo.gated ? 'manual' : false,
          pipeline_tag: 'text-generation',
          downloads: 0,
          likes: 0,
          lastModified: '2024-02-19T10:57:45.000Z',
          sha: repo.commit,
          siblings,
        }),
      );
      return;
    }
    const { paths } = JSON.parse(body || '{}') as { paths: string[] };
    const infos = paths
      .filter((p) => repo.files[p])
      .map((path) => {
        const bytes = repo.files[path]!; // kept by the filter above
        const size = this.faults.lieAboutSize === path ? bytes.length + (this.faults.hugeSize ?? 10) : bytes.length;
        const hash = this.faults.wrongSha === path ? sha256(Buffer.from('something else')) : sha256(bytes);
        return isLfs(path)
          ? {
              type: 'file',
              path,
              size,
              oid: gitBlobId(lfsPointer(bytes)),
              lfs: { oid: hash, size, pointerSize: lfsPointer(bytes).length },
            }
          : { type: 'file', path, size, oid: gitBlobId(bytes) };
      });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(infos));
  }

  private resolve(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    revision: string,
    path: string,
    token: string | undefined,
  ): void {
    const repo = this.revisionOf(res, name, revision);
    if (!repo) return;
    if (repo.gated && !token)
      return void this.error(
        res,
        401,
        'GatedRepo',
        `Access to model ${name} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      );
    if (repo.gated && token !== repo.token)
      return void this.error(
        res,
        403,
        'GatedRepo',
        `Access to model ${name} is restricted and you are not in the authorized list. Visit ${this.endpoint}/${name} to ask for access.`,
      );
    const bytes = repo.files[path];
    if (!bytes) return void this.error(res, 404, 'EntryNotFound', 'Entry not found');
    const common = { 'x-repo-commit': repo.commit, 'accept-ranges': 'bytes' };
    const linked = { 'x-linked-etag': `"${sha256(bytes)}"`, 'x-linked-size': String(bytes.length) };
    if (isLfs(path) && repo.xet && req.headers.accept?.includes('application/vnd.xet-fileinfo+json')) {
      const links = `<${this.endpoint}/api/models/${name}/xet-read-token/${repo.commit}>; rel="xet-auth", <${this.endpoint}/cas/v1/reconstructions/${sha256(bytes)}>; rel="xet-reconstruction-info"`;
      res.writeHead(200, {
        ...common,
        ...linked,
        'content-type': 'application/vnd.xet-fileinfo+json',
        'x-xet-hash': sha256(Buffer.concat([bytes, Buffer.from('xet')])),
        link: links,
      });
      res.end(
        JSON.stringify({
          hash: 'emulated',
          refreshUrl: '',
          reconstructionUrl: '',
          etag: sha256(bytes),
          size: bytes.length,
        }),
      );
      return;
    }
    if (isLfs(path)) {
      // The hub's redirect to a signed CDN URL; the file's hash and size travel in X-Linked-*.
      res.writeHead(302, {
        ...common,
        ...linked,
        etag: `"${sha256(bytes)}"`,
        location: `/cdn/${sha256(bytes)}?X-Amz-Signature=emulated`,
        'content-length': '0',
      });
      res.end();
      return;
    }
    this.send(req, res, bytes, { ...common, etag: `"${gitBlobId(bytes)}"` });
  }

  private serve(req: IncomingMessage, res: ServerResponse, hash: string): void {
    const blob = this.blobs().get(hash);
    if (!blob) return void this.error(res, 404, 'NotFound', 'no such object');
    const probe = req.headers.range === 'bytes=0-0';
    const broken = this.faults.breakNext === blob.path && !probe;
    if (broken && (this.faults.breakTimes = (this.faults.breakTimes ?? 1) - 1) <= 0) {
      this.faults.breakNext = undefined;
      this.faults.breakTimes = undefined;
    }
    const stalled = this.faults.stallNext === blob.path && !probe;
    if (stalled) this.faults.stallNext = undefined;
    this.send(
      req,
      res,
      blob.bytes,
      { etag: `"${hash}"`, 'accept-ranges': 'bytes' },
      broken ? 'break' : stalled ? 'stall' : null,
    );
  }

  /** 200, or 206 for a Range request; `fault` sends half of the body, then drops the connection or stalls. */
  private send(
    req: IncomingMessage,
    res: ServerResponse,
    bytes: Buffer,
    headers: Record<string, string>,
    fault: 'break' | 'stall' | null = null,
  ): void {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
    const body = bytes.subarray(start, end + 1);
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${bytes.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    this.fileBytesServed += fault ? Math.floor(body.length / 2) : body.length;
    if (fault) {
      const half = body.subarray(0, Math.floor(body.length / 2));
      res.write(half, () => {
        if (fault === 'break') res.socket?.destroy();
        else this.stalled.push(res); // kept open, silent, until stop()
      });
      return;
    }
    res.end(body);
  }
}

/**
 * Writes files into `hubCache` as huggingface_hub does: blobs named by SHA-256 (LFS) or git
 * blob id, relative symlinks in snapshots/<commit>/, and refs/<revision> when given.
 */
export function writePythonCache(
  hubCache: string,
  repo: string,
  commit: string,
  files: Record<string, Buffer>,
  revision: string | null = 'main',
): string {
  const folder = join(hubCache, `models--${repo.replace('/', '--')}`);
  const snapshot = join(folder, 'snapshots', commit);
  for (const [path, bytes] of Object.entries(files)) {
    const blob = join(folder, 'blobs', isLfs(path) ? sha256(bytes) : gitBlobId(bytes));
    mkdirSync(dirname(blob), { recursive: true });
    writeFileSync(blob, bytes);
    mkdirSync(dirname(join(snapshot, path)), { recursive: true });
    symlinkSync(relative(dirname(join(snapshot, path)), blob), join(snapshot, path));
  }
  if (revision) {
    mkdirSync(join(folder, 'refs'), { recursive: true });
    writeFileSync(join(folder, 'refs', revision), commit);
  }
  return snapshot;
}

/** A loopback port nothing listens on (fetch refuses "bad ports" such as 1 or 9 before connecting). */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createTcpServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Fresh, empty caches for CLI runs against `hub`: the shared layout (HF_HUB_CACHE), the older
 * mini-gpt cache, no token, online; `extra` is added to the environment. `folder`: gpt2's
 * repository folder in the shared cache.
 */
export function hubCaches(hub: FakeHub, extra: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'mini-gpt-hub-'));
  const env = {
    HF_ENDPOINT: hub.endpoint,
    HF_HUB_CACHE: join(root, 'hub'),
    MINI_GPT_CACHE: join(root, 'mini-gpt'),
    HF_TOKEN: '',
    HF_TOKEN_PATH: join(root, 'no-token'),
    HF_HUB_OFFLINE: '',
    ...extra,
  };
  return { root, env, folder: join(root, 'hub', 'models--openai-community--gpt2') };
}
