// Tokenizing takes bounded time whatever the text: a run without spaces is one GPT-2 pre-token,
// and js-tiktoken's merge is quadratic in its length (32,000 "=" took 47 s). Our merge
// (packages/gpt/src/bpe.ts) must give exactly GPT-2's ids: checked against js-tiktoken's own
// encoder (the reference, which is correct but slow) on adversarial and random texts.
import * as G from '@mini/gpt';
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2 from 'js-tiktoken/ranks/gpt2';
import { describe, expect, it } from 'vitest';

const reference = new Tiktoken(gpt2);
const referenceIds = (text: string) => reference.encode(text, [G.END_OF_TEXT]);

/** Deterministic texts from an alphabet chosen to hit every branch of GPT-2's pre-tokenizer. */
function randomTexts(count: number, seed: number): string[] {
  let state = seed;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  const alphabet = [
    '=',
    '-',
    'a',
    'b',
    'Q',
    ' ',
    '  ',
    '\n',
    '\r\n',
    '\t',
    'é',
    '1',
    '42',
    '.',
    "'s",
    "'ll",
    '🙂',
    '\u0000',
    'ab',
    '==',
    '<|endoftext|>',
    '中',
  ];
  const texts: string[] = [];
  for (let k = 0; k < count; k++) {
    let s = '';
    const n = Math.floor(next() * 300);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
    texts.push(s);
  }
  return texts;
}

describe('GPT-2 tokenizer on adversarial text', () => {
  it.each([
    ['a run of "="', '='.repeat(3000)],
    ['a run of letters', 'a'.repeat(2000)],
    ['a run of digits', '7'.repeat(1500)],
    ['spaces then a word', `${' '.repeat(700)}word`],
    ['accented letters', 'é'.repeat(800)],
    ['emoji', '🙂'.repeat(400)],
    ['NUL bytes', '\u0000'.repeat(1000)],
    ['a special token between runs', `${'-'.repeat(500)}<|endoftext|>${'-'.repeat(500)}`],
    ['empty', ''],
  ])('%s: the same ids as the reference', (_name, text) => {
    expect(G.textToIds(text)).toEqual(referenceIds(text));
  });

  it('random texts: the same ids as the reference', () => {
    for (const text of randomTexts(300, 7)) expect(G.textToIds(text), JSON.stringify(text)).toEqual(referenceIds(text));
  });

  it.each([
    ['"="', '='.repeat(100_000)],
    ['letters', 'x'.repeat(100_000)],
    ['digits', '1'.repeat(100_000)],
    ['emoji', '🙂'.repeat(50_000)],
  ])('100,000 characters of %s in under 5 s', (_name, text) => {
    const started = performance.now();
    const ids = G.textToIds(text);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(G.idsToText(ids)).toBe(text);
  });
});

describe('the corpus tokenizer (gpt-tokenizer) and ours agree on long runs', () => {
  it('ordinary encoding: the same ids as gpt-tokenizer, "<|endoftext|>" as text', async () => {
    const { encode } = await import('gpt-tokenizer/model/gpt2');
    const ordinary = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };
    for (const text of [`${'='.repeat(2000)} x`, `a<|endoftext|>b${' '.repeat(300)}c`, ...randomTexts(50, 11)])
      expect(G.encodeOrdinary(text), JSON.stringify(text)).toEqual(encode(text, ordinary));
  });
});
