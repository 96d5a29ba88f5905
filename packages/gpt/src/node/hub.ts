/**
 * The Hugging Face hub as its own tools configure it, from the same environment variables as
 * Python's huggingface_hub: HF_ENDPOINT (the hub's base URL), HF_HUB_CACHE / HF_HOME /
 * XDG_CACHE_HOME (the shared cache),
 * HF_HUB_OFFLINE (no request at all), HF_TOKEN or the token file `huggingface-cli login`
 * writes ($HF_TOKEN_PATH, default $HF_HOME/token).
 *
 * `hubFetch` is the one door to the network for the hub client: it names the URL, the cause
 * and HF_ENDPOINT when the hub cannot be reached, turns an error response into a HubError
 * carrying the hub's own X-Error-Code / X-Error-Message, and refuses any request offline.
 */
import { EnvironmentError, MiniGptError, decimalNumber } from '@mini/tensor';
import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** A failed exchange with the hub: `status` is the HTTP status (0: no response at all). */
export class HubError extends MiniGptError {
  override name = 'HubError';
  constructor(
    message: string,
    readonly status = 0,
    readonly code: string | null = null,
    readonly url = '',
  ) {
    super(message);
  }
}

export interface HubSettings {
  /** Base URL without a trailing slash (HF_ENDPOINT, default https://huggingface.co). */
  endpoint: string;
  /** The shared cache folder (HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub). */
  cacheDir: string;
  /** HF_HUB_OFFLINE: use the cache only, never a request. */
  offline: boolean;
  /** HF_TOKEN, else the token file; undefined when neither is set. */
  token?: string;
  /**
   * HF_HUB_DOWNLOAD_TIMEOUT in milliseconds (default 10 s, as huggingface_hub): the longest wait
   * for a connection and the response's headers, and for each next piece of a body.
   */
  timeoutMs: number;
}

/** Attempts after the first for a request that got no answer, or 408/429/5xx (huggingface_hub retries too). */
export const HUB_RETRIES = 2;
/** The wait before retry n (0-based): 1 s, then 2 s. */
const backoffMs = (attempt: number): number => 1000 * 2 ** attempt;
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);

// NOTE: huggingface_hub's truthy spelling for boolean variables (constants._is_true).
const isTrue = (value: string | undefined): boolean => ['1', 'ON', 'YES', 'TRUE'].includes((value ?? '').toUpperCase());

function tokenFromFile(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readFileSync(env.HF_TOKEN_PATH || join(hfHome(env), 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The shared cache folder: HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
 * else ~/.cache/huggingface/hub: huggingface_hub's constants.py and @huggingface/hub's
 * getHFHubCachePath, except that an empty variable counts as unset (the client would take ""
 * for a folder and write into the current directory).
 */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome(env), 'hub');
  // A file where the cache should be would fail later, deep in a scan or a mkdir, naming no variable.
  let file = false;
  try {
    file = !statSync(dir).isDirectory();
  } catch {}
  if (file) {
    const named = env.HF_HUB_CACHE
      ? 'HF_HUB_CACHE'
      : env.HUGGINGFACE_HUB_CACHE
        ? 'HUGGINGFACE_HUB_CACHE'
        : env.HF_HOME
          ? 'HF_HOME'
          : null;
    throw new EnvironmentError(
      named
        ? `${named} points the Hugging Face cache at ${dir}, which is a file, not a folder: set ${named} to a folder (or leave it unset)`
        : `the Hugging Face cache ${dir} is a file, not a folder: move it away, or set HF_HUB_CACHE to a folder`,
    );
  }
  return dir;
}

/** HF_HUB_DOWNLOAD_TIMEOUT (seconds, a positive number) in milliseconds; 10 s when unset. */
function timeoutOf(env: NodeJS.ProcessEnv): number {
  const value = env.HF_HUB_DOWNLOAD_TIMEOUT?.trim();
  if (!value) return 10_000;
  const seconds = decimalNumber(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400)
    throw new EnvironmentError(
      `HF_HUB_DOWNLOAD_TIMEOUT=${JSON.stringify(env.HF_HUB_DOWNLOAD_TIMEOUT)}: use a number of seconds above 0 (default 10), or leave it unset`,
    );
  return seconds * 1000;
}

const hfHome = (env: NodeJS.ProcessEnv): string =>
  env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');

/** The hub settings the environment asks for (read at each call: tests and users change it). */
export function hubSettings(env: NodeJS.ProcessEnv = process.env): HubSettings {
  return {
    endpoint: (env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    cacheDir: hubCacheDir(env),
    offline: isTrue(env.HF_HUB_OFFLINE),
    token: env.HF_TOKEN?.trim() || tokenFromFile(env),
    timeoutMs: timeoutOf(env),
  };
}

/** Where requests go and how to change that, for error messages. */
export function describeEndpoint(settings: HubSettings): string {
  return settings.endpoint === DEFAULT_ENDPOINT && !process.env.HF_ENDPOINT
    ? `the hub is ${DEFAULT_ENDPOINT}; set HF_ENDPOINT for a mirror`
    : `the hub is HF_ENDPOINT=${settings.endpoint}`;
}

/** The innermost cause of a failed fetch: "connect ECONNREFUSED 127.0.0.1:9", "getaddrinfo ENOTFOUND …". */
export function networkCause(e: unknown): string {
  let error = e as { message?: string; cause?: unknown; code?: string };
  while (error?.cause && typeof error.cause === 'object') error = error.cause as typeof error;
  return error?.message || error?.code || String(e);
}

export interface FetchPolicy {
  /** The longest wait for headers, and between two pieces of a body (default 10 s). */
  timeoutMs?: number;
  /** Attempts after the first when no answer came or the answer was 408, 429 or 5xx (default HUB_RETRIES). */
  retries?: number;
  /** Sent as `Authorization: Bearer <token>` to URLs under `origin` only (never to a CDN it redirects to). */
  token?: string;
  origin?: string;
}

/**
 * fetch, asking for the bytes as stored (Accept-Encoding: identity) so sizes, ranges and hashes
 * refer to the file itself, and failing with a sentence: the URL and the cause (plus `hint`)
 * when the server cannot be reached, the URL, status and server's message on an HTTP error.
 * A server that accepts the connection and never answers is given up on after `timeoutMs`
 * (Node's own limit is 300 s), a body that stops arriving too (its stream errors); a request
 * with no answer, or a 408/429/5xx, is retried after 1 s, then 2 s.
 * @throws HubError
 */
export function explainedFetch(hint = '', policy: FetchPolicy = {}): typeof fetch {
  const timeoutMs = policy.timeoutMs ?? 10_000;
  const retries = policy.retries ?? HUB_RETRIES;
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const shown = url.replace(/\?.*$/, ''); // the client's ?expand=… lists say nothing to a user
    const headers = new Headers(init?.headers);
    headers.set('accept-encoding', 'identity');
    // As Python's client: the token is sent whatever its form (a mirror may use its own kind).
    if (policy.token && policy.origin && url.startsWith(policy.origin) && !headers.has('authorization'))
      headers.set('authorization', `Bearer ${policy.token}`);
    for (let attempt = 0; ; attempt++) {
      const tried = attempt > 0 ? `, ${attempt + 1} tries` : '';
      const controller = new AbortController();
      const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      let response: Response;
      try {
        response = await fetch(input, { ...init, headers, signal });
      } catch (e) {
        if (init?.signal?.aborted) throw e;
        const cause = controller.signal.aborted ? `no answer in ${timeoutMs / 1000} s` : networkCause(e);
        if (attempt < retries) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw new HubError(`could not reach ${shown}: ${cause}${tried}${hint}`, 0, null, url);
      } finally {
        clearTimeout(timer);
      }
      if (TRANSIENT.has(response.status) && attempt < retries) {
        await response.body?.cancel().catch(() => {});
        await sleep(backoffMs(attempt));
        continue;
      }
      if (response.status >= 400) {
        const code = response.headers.get('x-error-code');
        const detail = response.headers.get('x-error-message') ?? (await response.text().catch(() => '')).slice(0, 200);
        throw new HubError(
          `${shown}: HTTP ${response.status}${detail.trim() ? ` (${detail.trim()})` : ''}${tried}`,
          response.status,
          code,
          url,
        );
      }
      return response.body ? watchBody(response, controller, timeoutMs) : response;
    }
  };
}

/**
 * The response with a body that errors ("no data for 10 s") when no piece arrives for
 * `timeoutMs`: a stalled transfer ends, and the caller resumes it, instead of waiting forever.
 */
function watchBody(response: Response, controller: AbortController, timeoutMs: number): Response {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${timeoutMs / 1000} s`)), timeoutMs);
    timer.unref(); // a body nobody reads must not keep the process alive
  };
  arm();
  const body = response.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        arm();
        out.enqueue(chunk);
      },
      flush() {
        clearTimeout(timer);
      },
    }),
  );
  const watched = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // @huggingface/hub reads the final URL after redirects; a new Response would have none.
  Object.defineProperty(watched, 'url', { value: response.url });
  Object.defineProperty(watched, 'redirected', { value: response.redirected });
  return watched;
}

/**
 * The fetch given to @huggingface/hub's functions (their `fetch` parameter): explainedFetch
 * naming HF_ENDPOINT, and no request at all under HF_HUB_OFFLINE.
 */
export function hubFetch(settings: HubSettings): typeof fetch {
  const named = explainedFetch(` (is the network up? ${describeEndpoint(settings)})`, {
    timeoutMs: settings.timeoutMs,
    token: settings.token,
    origin: settings.endpoint,
  });
  return async (input, init) => {
    if (settings.offline)
      throw new HubError(
        `HF_HUB_OFFLINE is set: no request to ${input instanceof Request ? input.url : String(input)}`,
        0,
        'Offline',
      );
    return named(input, init);
  };
}
