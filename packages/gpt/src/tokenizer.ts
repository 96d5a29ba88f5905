/** GPT-2's byte-pair encoding (js-tiktoken's "gpt2" ranks), with <|endoftext|> allowed. */
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2 from 'js-tiktoken/ranks/gpt2';

export const END_OF_TEXT = '<|endoftext|>';
export const END_OF_TEXT_ID = 50256;

let encoding: Tiktoken | null = null;

function tokenizer(): Tiktoken {
  return (encoding ??= new Tiktoken(gpt2));
}

/** Token ids of `text`; "<|endoftext|>" becomes id 50256 (as the book's allowed_special). */
export function textToIds(text: string): number[] {
  return tokenizer().encode(text, [END_OF_TEXT]);
}

export function idsToText(ids: readonly number[]): string {
  return tokenizer().decode([...ids]);
}
