/**
 * Byte sources for a browser (or any runtime with Blob and fetch): a File or Blob read in
 * slices, and a URL read with HTTP Range requests. The safetensors reader asks for one tensor
 * at a time, so a large checkpoint is never held whole (node/files.ts does the same for files).
 */
import { MiniGptError } from '@mini/tensor';
import { type ByteSource, bytesSource } from './safetensors.js';

export class ByteSourceError extends MiniGptError {
  override name = 'ByteSourceError';
}

function checkRange(name: string, size: number, offset: number, length: number): void {
  if (
    !(
      Number.isSafeInteger(offset) &&
      Number.isSafeInteger(length) &&
      offset >= 0 &&
      length >= 0 &&
      offset + length <= size
    )
  ) {
    throw new ByteSourceError(`${name}: ${length} bytes at offset ${offset} are outside the file (${size} bytes)`);
  }
}

/** A ByteSource over a File or Blob; each read slices the blob (the rest stays on disk). */
export function blobSource(blob: Blob, name = (blob as Partial<File>).name || 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(name, blob.size, offset, length);
      const bytes = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      // NOTE: a File changed on disk after it was picked reads short (or throws NotReadableError).
      if (bytes.byteLength !== length)
        throw new ByteSourceError(
          `${name}: got ${bytes.byteLength} of ${length} bytes at offset ${offset} (did the file change?)`,
        );
      return bytes;
    },
  };
}

export interface FetchSourceOptions {
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Extra request headers (an Authorization header, say). */
  headers?: Record<string, string>;
}

/**
 * A ByteSource over a URL, read with `Range: bytes=a-b` requests (one per tensor). The size
 * comes from the first response's Content-Range. A server that ignores Range answers 200 with
 * the whole body: then the body is kept in memory and read from there. Reads after the first
 * carry If-Range with the ETag (or Last-Modified), so a file replaced on the server mid-load
 * is an error rather than a mix of two files.
 * Throws ByteSourceError naming the URL: network failures, HTTP errors, short answers.
 */
export async function fetchSource(url: string, options: FetchSourceOptions = {}): Promise<ByteSource> {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const request = async (range: string, validator?: string): Promise<Response> => {
    const headers: Record<string, string> = { ...options.headers, Range: `bytes=${range}` };
    if (validator) headers['If-Range'] = validator;
    try {
      return await fetchImpl(url, { headers });
    } catch (e) {
      throw new ByteSourceError(`${url}: ${(e as Error).message}`);
    }
  };
  const first = await request('0-0');
  if (first.status === 200) return bytesSource(new Uint8Array(await first.arrayBuffer()), url);
  if (first.status !== 206)
    throw new ByteSourceError(`${url}: HTTP ${first.status}${first.statusText ? ` ${first.statusText}` : ''}`);
  await first.arrayBuffer();
  const total = /\/(\d+)\s*$/.exec(first.headers.get('Content-Range') ?? '');
  if (!total)
    throw new ByteSourceError(
      `${url}: the server's Content-Range (${JSON.stringify(first.headers.get('Content-Range'))}) gives no file size`,
    );
  const size = Number(total[1]);
  const validator = first.headers.get('ETag') ?? first.headers.get('Last-Modified') ?? undefined;
  return {
    name: url,
    size,
    async read(offset, length) {
      checkRange(url, size, offset, length);
      if (length === 0) return new Uint8Array(0);
      const response = await request(`${offset}-${offset + length - 1}`, validator);
      if (response.status === 200)
        throw new ByteSourceError(`${url}: the file changed on the server while it was being read`);
      if (response.status !== 206)
        throw new ByteSourceError(`${url}: HTTP ${response.status} for bytes ${offset}-${offset + length - 1}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.byteLength !== length)
        throw new ByteSourceError(`${url}: got ${bytes.byteLength} of ${length} bytes at offset ${offset}`);
      return bytes;
    },
  };
}
