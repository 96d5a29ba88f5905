/**
 * @mini/gpt: the GPT-2 model, data pipeline, training loop, decoding and weights.
 * Not built yet: this package is the subject of issue #4 and exports nothing so far.
 */
export {};
