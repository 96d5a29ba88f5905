/**
 * @mini/autograd: reverse-mode differentiation over @mini/tensor.
 * Not built yet: this package is the subject of issue #3 and exports nothing so far.
 */
export {};
