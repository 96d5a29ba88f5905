// config.json keys with which Hugging Face's GPT-2 computes something else than mini-gpt are
// refused by name (never ignored); n_inner is honoured (mlp-width.test.ts); token ids past
// GPT-2's vocabulary are an error in idsToText, not vanished text.
import * as G from '@mini/gpt';
import { describe, expect, it } from 'vitest';

const base = { model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2 };

describe('config.json keys that change the computation', () => {
  it.each([
    [{ scale_attn_weights: false }, /config\.json: scale_attn_weights false is not supported/],
    [{ scale_attn_by_inverse_layer_idx: true }, /config\.json: scale_attn_by_inverse_layer_idx true is not supported/],
    [{ reorder_and_upcast_attn: 'yes' }, /reorder_and_upcast_attn must be true or false/],
  ])('%o is refused by name', (keys, message) => {
    expect(() => G.fromHFConfig({ ...base, ...keys })).toThrow(message);
  });

  it.each([
    { scale_attn_weights: true },
    { scale_attn_by_inverse_layer_idx: false },
    { reorder_and_upcast_attn: true },
    { n_inner: null },
    { n_inner: 128 },
    { n_inner: 64 }, // the MLP's width, honoured (test/gpt/mlp-width.test.ts)
  ])('%o computes what mini-gpt computes and is accepted', (keys) => {
    expect(G.fromHFConfig({ ...base, ...keys }).embedDim).toBe(32);
  });
});

describe('token ids past the tokenizer', () => {
  it('idsToText raises for an id of a padded vocabulary (50,304) instead of dropping it', () => {
    expect(G.idsToText([15496, 50256])).toBe('Hello<|endoftext|>');
    expect(() => G.idsToText([15496, 50300])).toThrow(/token id 50300 is not in GPT-2's vocabulary \(0 to 50256\)/);
    expect(() => G.idsToText([-1])).toThrow(RangeError);
  });
});
