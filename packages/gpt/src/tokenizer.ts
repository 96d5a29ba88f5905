/**
 * GPT-2's byte-pair encoding (js-tiktoken's "gpt2" ranks), with <|endoftext|> allowed.
 * Encoding is js-tiktoken's pre-tokenizer (GPT-2's regular expression, unchanged) followed by
 * our own merge (bpe.ts): the same ids, in O(n log n) for a pre-token of n bytes where
 * js-tiktoken's merge is quadratic (a run of 32,000 "=" took 47 s).
 */
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import { type RankMap, bytePairEncode } from './bpe.js';

export const END_OF_TEXT = '<|endoftext|>';
export const END_OF_TEXT_ID = 50256;

let encoding: Tiktoken | null = null;

function tokenizer(): Tiktoken {
  return (encoding ??= new Tiktoken(gpt2));
}

interface Ranks {
  ranks: RankMap;
  maxTokenBytes: number;
  pattern: RegExp;
}
let ranks: Ranks | null = null;

/** js-tiktoken's own tables (internal fields, read only): the ranks and the pre-tokenizer's pattern. */
function tables(): Ranks {
  if (ranks) return ranks;
  const internal = tokenizer() as unknown as {
    rankMap: Map<string, number>;
    textMap: Map<number, Uint8Array>;
    patStr: string;
  };
  let maxTokenBytes = 1;
  for (const bytes of internal.textMap.values()) maxTokenBytes = Math.max(maxTokenBytes, bytes.length);
  ranks = { ranks: internal.rankMap, maxTokenBytes, pattern: new RegExp(internal.patStr, 'gu') };
  return ranks;
}

const utf8 = new TextEncoder();

/**
 * Ids of `text` as ordinary text ("<|endoftext|>" in it is text, not the special token):
 * GPT-2's pre-tokens, each merged by bytePairEncode. `out` gets the ids appended.
 */
export function encodeOrdinary(text: string, out: number[] = []): number[] {
  const { ranks, maxTokenBytes, pattern } = tables();
  for (const match of text.matchAll(pattern)) {
    for (const id of bytePairEncode(utf8.encode(match[0]), ranks, maxTokenBytes)) out.push(id);
  }
  return out;
}

/**
 * Token ids of `text` (GPT-2's, as tiktoken gives them); "<|endoftext|>" becomes id 50256 (as
 * the book's allowed_special). Linear-logarithmic in the text's length whatever the text.
 * @throws RangeError when `text` is not a string
 */
export function textToIds(text: string): number[] {
  checkText(text, 'textToIds');
  const ids: number[] = [];
  let start = 0;
  for (;;) {
    const at = text.indexOf(END_OF_TEXT, start);
    encodeOrdinary(at < 0 ? text.slice(start) : text.slice(start, at), ids);
    if (at < 0) return ids;
    ids.push(END_OF_TEXT_ID);
    start = at + END_OF_TEXT.length;
  }
}

/**
 * textToIds, giving the event loop a turn every `every` pre-tokens, so that Ctrl-C handlers,
 * timers and a worker's Stop message run while a long text is tokenized (seconds for tens of
 * MB): the same ids as textToIds.
 */
export async function textToIdsAsync(text: string, every = 20_000): Promise<number[]> {
  checkText(text, 'textToIdsAsync');
  const { ranks, maxTokenBytes, pattern } = tables();
  const ids: number[] = [];
  let count = 0;
  let start = 0;
  for (;;) {
    const at = text.indexOf(END_OF_TEXT, start);
    const piece = at < 0 ? text.slice(start) : text.slice(start, at);
    for (const match of piece.matchAll(pattern)) {
      for (const id of bytePairEncode(utf8.encode(match[0]), ranks, maxTokenBytes)) ids.push(id);
      if (++count % every === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (at < 0) return ids;
    ids.push(END_OF_TEXT_ID);
    start = at + END_OF_TEXT.length;
  }
}

/**
 * Text from ids given one at a time, in time proportional to each id's bytes (decoding the
 * whole output again for every token made generation slow down as it went: 570 tokens/s at
 * 2,000 tokens, 323 at 32,000). A character whose bytes span tokens comes out once complete;
 * the pieces joined are idsToText of all the ids.
 */
export class TokenDecoder {
  private readonly utf8 = new TextDecoder('utf-8');

  /**
   * The text that `id` completes ("" while a character waits for its other bytes).
   * @throws RangeError for an id outside GPT-2's vocabulary (as idsToText)
   */
  push(id: number): string {
    checkIds([id]);
    const internal = tokenizer() as unknown as { textMap: Map<number, Uint8Array> };
    const bytes = internal.textMap.get(id) ?? new TextEncoder().encode(END_OF_TEXT);
    return this.utf8.decode(bytes, { stream: true });
  }

  /** What is left: a character cut short at the end comes out as U+FFFD, as idsToText gives it. */
  end(): string {
    return this.utf8.decode();
  }
}

/** Ids GPT-2's tokenizer has: 0 to 50256 (<|endoftext|>). */
export const TOKENIZER_VOCAB_SIZE = END_OF_TEXT_ID + 1;

/**
 * The text of token ids (bytes joined, then decoded as UTF-8 with replacement characters).
 * @throws RangeError for an id outside 0..50256 (as tiktoken raises; js-tiktoken dropped it
 *   silently): a model with a padded vocabulary, such as nanoGPT's 50,304, may sample one
 */
export function idsToText(ids: readonly number[]): string {
  checkIds(ids);
  return tokenizer().decode([...ids]);
}

/** A string to tokenize: undefined failed inside with "reading 'indexOf'". */
function checkText(text: unknown, where: string): void {
  if (typeof text !== 'string') throw new RangeError(`${where}: the text must be a string, got ${String(text)}`);
}

function checkIds(ids: readonly number[]): void {
  if (!Array.isArray(ids)) throw new RangeError(`token ids must be an array of integers, got ${String(ids)}`);
  for (const id of ids) {
    // Only an integer past the end comes from a model whose vocabulary is larger than GPT-2's.
    if (Number.isInteger(id) && id >= TOKENIZER_VOCAB_SIZE)
      throw new RangeError(
        `token id ${id} is not in GPT-2's vocabulary (0 to ${TOKENIZER_VOCAB_SIZE - 1}): the model's vocabulary is larger than the tokenizer's`,
      );
    if (!(Number.isInteger(id) && id >= 0))
      throw new RangeError(
        `token id ${String(id)} is not a token id (an integer from 0 to ${TOKENIZER_VOCAB_SIZE - 1})`,
      );
  }
}
