/**
 * @mini/autograd: reverse-mode differentiation over @mini/tensor. Wrap tensors in Variables
 * (`parameter` for leaves that need gradients, `constant` for the rest), compute with the ops
 * below, call `loss.backward()`, read `param.grad`.
 *
 * @module @mini/autograd
 */
export {
  Variable,
  GradError,
  type GraphNode,
  parameter,
  constant,
  record,
  nonDifferentiable,
  noGrad,
  isGradEnabled,
} from './variable.js';
export {
  differentiableOps,
  nonDifferentiableOps,
  rules,
  type DifferentiableOp,
  type Rule,
  type RuleArgs,
  type SavedFor,
} from './registry.js';
export * from './ops/elementwise.js';
export * from './ops/matmul.js';
export * from './ops/reduce.js';
export * from './ops/views.js';
export * from './ops/layers.js';
