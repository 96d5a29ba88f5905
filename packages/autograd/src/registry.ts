/**
 * Every differentiable op, by the name its node records. `record()` accepts only these names,
 * and the gradient-check suite must cover every one (a coverage test fails otherwise).
 */
export const differentiableOps = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'tanh', 'abs', 'relu', 'gelu', 'square',
  'addScalar', 'mulScalar', 'powScalar', 'rsubScalar', 'rdivScalar', 'maxScalar', 'minScalar',
  'matmul', 'sum', 'mean', 'max',
  'softmax', 'layerNorm', 'embedding', 'crossEntropy', 'dropout',
  'reshape', 'permute', 'slice', 'expand', 'contiguous',
] as const;

export type DifferentiableOp = (typeof differentiableOps)[number];

/** Ops that return values but no gradient: using them on the way to a loss cuts the graph. */
export const nonDifferentiableOps = ['argmax', 'eq', 'lt', 'gt', 'sign'] as const;
