/**
 * What a run's text is, not where it is: its size and SHA-256, kept in the checkpoint's run
 * settings so that --resume refuses other content at the same path (it trained on silently,
 * "step 72 of 18") and accepts the same content at a new path (moving the file made the run
 * impossible to resume).
 */
import { createHash } from 'node:crypto';
import { UsageError } from './ui.js';

/** A text's UTF-8 size in bytes and SHA-256 (hex) of those bytes. */
export interface TextIdentity {
  bytes: number;
  sha256: string;
}

/**
 * The identity of --data when it is one text read whole (a folder of texts or of token shards,
 * or a text streamed, has none: its path is kept as the rule).
 */
export function sourceIdentity(source: { kind: string; text?: string }): TextIdentity | undefined {
  return source.kind === 'text' && source.text !== undefined ? textIdentity(source.text) : undefined;
}

/** The identity of a text as read (UTF-8, a byte-order mark dropped). */
export function textIdentity(text: string): TextIdentity {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Checks that the text read for a resumed run is the one it was trained on.
 * @param saved the identity in the checkpoint (undefined: saved before identities were kept)
 * @param now the identity of the data read now (undefined: not one text read whole)
 * @param savedPath the path the run was trained from; `path` the one read now
 * @throws UsageError saying what changed: the content (sizes and hashes), or, for an older
 *   checkpoint without an identity, the path (the content cannot be compared)
 */
export function checkResumeText(
  saved: TextIdentity | undefined,
  savedPath: string,
  path: string,
  now: TextIdentity | undefined,
): void {
  if (!saved || !now) {
    if (path !== savedPath)
      throw new UsageError(
        `--data cannot change when resuming this run: it trains on ${savedPath}, and without the size and hash of one text (a checkpoint from before, or a folder or streamed text) ${path} cannot be compared with it`,
      );
    return;
  }
  if (saved.bytes === now.bytes && saved.sha256 === now.sha256) return;
  const short = (h: string) => h.slice(0, 12);
  throw new UsageError(
    `--data ${path}: not the text this run was trained on (it had ${saved.bytes.toLocaleString('en-US')} bytes, SHA-256 ${short(saved.sha256)}…; this has ${now.bytes.toLocaleString('en-US')} bytes, SHA-256 ${short(now.sha256)}…${path === savedPath ? '; the file changed since' : ''}); give the same text, or start a new run with --out`,
  );
}
