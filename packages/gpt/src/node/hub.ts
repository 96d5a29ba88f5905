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
import { MiniGptError } from '@mini/tensor';
import { readFileSync } from 'node:fs';
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
}

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
  return env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome(env), 'hub');
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

/**
 * fetch, asking for the bytes as stored (Accept-Encoding: identity) so sizes, ranges and hashes
 * refer to the file itself, and failing with a sentence: the URL and the cause (plus `hint`)
 * when the server cannot be reached, the URL, status and server's message on an HTTP error.
 * @throws HubError
 */
export function explainedFetch(hint = ''): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const shown = url.replace(/\?.*$/, ''); // the client's ?expand=… lists say nothing to a user
    const headers = new Headers(init?.headers);
    headers.set('accept-encoding', 'identity');
    let response: Response;
    try {
      response = await fetch(input, { ...init, headers });
    } catch (e) {
      throw new HubError(`could not reach ${shown}: ${networkCause(e)}${hint}`, 0, null, url);
    }
    if (response.status >= 400) {
      const code = response.headers.get('x-error-code');
      const detail = response.headers.get('x-error-message') ?? (await response.text().catch(() => '')).slice(0, 200);
      throw new HubError(
        `${shown}: HTTP ${response.status}${detail.trim() ? ` (${detail.trim()})` : ''}`,
        response.status,
        code,
        url,
      );
    }
    return response;
  };
}

/**
 * The fetch given to @huggingface/hub's functions (their `fetch` parameter): explainedFetch
 * naming HF_ENDPOINT, and no request at all under HF_HUB_OFFLINE.
 */
export function hubFetch(settings: HubSettings): typeof fetch {
  const named = explainedFetch(` (is the network up? ${describeEndpoint(settings)})`);
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
