// Generation decodes token by token (TokenDecoder) instead of the whole output for every token:
// the pieces joined are idsToText of all the ids, characters split across tokens included, and
// the time per token does not grow with the output.
import * as G from '@mini/gpt';
import { describe, expect, it } from 'vitest';

/** Every piece TokenDecoder gives for `ids`, then its end. */
function pieces(ids: number[]): string[] {
  const decoder = new G.TokenDecoder();
  return [...ids.map((id) => decoder.push(id)), decoder.end()];
}

describe('TokenDecoder', () => {
  it('joins to idsToText, with characters split across tokens printed once whole', () => {
    for (const text of ['Hello, world', '🙂 smiles 中文 and é', 'x<|endoftext|>y', '']) {
      const ids = G.textToIds(text);
      const out = pieces(ids);
      expect(out.join('')).toBe(G.idsToText(ids));
      expect(out.some((p) => p.includes('\uFFFD'))).toBe(false);
    }
  });

  it('a character cut short at the end is U+FFFD, as idsToText gives it', () => {
    const ids = G.textToIds('🙂');
    expect(ids.length).toBeGreaterThan(1); // its four bytes span tokens
    const cut = ids.slice(0, -1);
    expect(pieces(cut).join('')).toBe(G.idsToText(cut));
  });

  it('an id past the vocabulary is a RangeError', () => {
    expect(() => new G.TokenDecoder().push(50300)).toThrow(RangeError);
  });

  it('32,000 tokens decode in well under a second (the whole-output way took minutes)', () => {
    const ids = G.textToIds('Every effort moves you 🙂 forward. '.repeat(3000)).slice(0, 32_000);
    const started = performance.now();
    const decoder = new G.TokenDecoder();
    let text = '';
    for (const id of ids) text += decoder.push(id);
    text += decoder.end();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(text).toBe(G.idsToText(ids));
  });
});
