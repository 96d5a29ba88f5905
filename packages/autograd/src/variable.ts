/**
 * Reverse-mode differentiation: every differentiable op builds its output and records a node
 * whose backward is the op's rule in the gradient table (registry.ts).
 * `backward()` walks the recorded graph once in reverse topological order, accumulating
 * gradients, freeing each intermediate gradient and each node's saved caches as soon as the
 * node is done. No rule reads a value back from the device.
 */
import {
  type Tensor,
  MiniGptError,
  ShapeError,
  ValueError,
  add,
  describeValue,
  keep,
  ones,
  shapesEqual,
  tidy,
} from '@mini/tensor';
import { type DifferentiableOp, type Rule, type SavedFor, accumulatesIntoFirst, rules } from './registry.js';

/** A node of the graph: the op that made a Variable, its inputs and its backward rule. */
export interface GraphNode {
  readonly op: string;
  readonly inputs: readonly Variable[];
  /**
   * Gradients of the inputs given the output's (null where an input needs none). Fresh tensors.
   * Where `accumulates`, `pending` (the first input's gradient gathered so far) is added into the
   * first gradient returned; the caller still owns and frees it.
   */
  backward(gradOutput: Tensor, pending?: Tensor | null): Array<Tensor | null>;
  /** Whether backward adds a pending gradient of the first input into its own (registry.ts: accumulatesIntoFirst). */
  readonly accumulates: boolean;
  /** Tensors kept only for the backward (caches such as layer norm's mean and rstd). */
  readonly saved: readonly Tensor[];
}

let noGradDepth = 0;

/** Runs `fn` without recording a graph (evaluation, optimizer steps, generation). */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++;
  try {
    return fn();
  } finally {
    noGradDepth--;
  }
}

/** False inside {@link noGrad}: ops then record no graph. */
export function isGradEnabled(): boolean {
  return noGradDepth === 0;
}

/** A backward pass that cannot run: no gradient path, a non-scalar output without a gradient, a non-differentiable op. */
export class GradError extends MiniGptError {
  override name = 'GradError';
}

/**
 * `v`'s tensor, after checking `v` is a Variable: untyped code passes undefined, a number or a
 * bare Tensor, which would otherwise fail inside as "reading 'data'". Throws ValueError naming
 * `op`, the argument (`what`) and the value.
 */
export function dataOf(op: string, what: string, v: Variable): Tensor {
  if (typeof v === 'object' && v !== null && 'data' in v && 'requiresGrad' in v) return v.data;
  const tensor = typeof v === 'object' && v !== null && 'storage' in v && 'dtype' in v;
  throw new ValueError(
    `${op}: ${what} must be a Variable, got ${describeValue(v)}${tensor ? ' (wrap it: new Variable(t))' : ''}`,
  );
}

/**
 * A tensor in the autograd graph: `data` (the value), and for results of ops the node that made
 * it. Leaves that need gradients come from {@link parameter}, the rest from {@link constant}.
 */
export class Variable {
  /** The accumulated gradient (leaves only), owned by this Variable. */
  grad: Tensor | null = null;

  constructor(
    readonly data: Tensor,
    readonly requiresGrad = false,
    readonly node: GraphNode | null = null,
    /** Set when a non-differentiable op made this value (named in errors). */
    readonly madeBy: string | null = null,
  ) {}

  get shape(): readonly number[] {
    return this.data.shape;
  }

  get isLeaf(): boolean {
    return this.node === null;
  }

  /** The same values, cut from the graph. */
  detach(): Variable {
    return new Variable(this.data.contiguous(), false);
  }

  /** Frees the gradient (like optimizer.zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /**
   * Accumulates d(this)/d(leaf) into every leaf that requires grad. `gradient` defaults to 1
   * for a one-element output and is required otherwise.
   */
  backward(gradient?: Tensor): void {
    if (!this.requiresGrad) {
      const cause = this.madeBy
        ? `: it was computed by ${this.madeBy}, which is not differentiable`
        : ' (no input requires grad)';
      throw new GradError(`backward: this value does not require grad${cause}`);
    }
    if (!gradient && this.data.size !== 1) {
      throw new GradError(`backward: a gradient is needed for a non-scalar output of shape [${this.shape.join(', ')}]`);
    }
    if (gradient && !shapesEqual(gradient.shape, this.shape)) {
      throw new ShapeError(
        `backward: gradient shape [${gradient.shape.join(', ')}] differs from the output's [${this.shape.join(', ')}]`,
      );
    }
    const order = topologicalOrder(this);
    const grads = new Map<Variable, Tensor>();
    grads.set(
      this,
      gradient ? gradient.contiguous() : ones(this.shape, { dtype: this.data.dtype, device: this.data.device }),
    );
    for (let i = order.length - 1; i >= 0; i--) {
      const v = order[i]!;
      const g = grads.get(v);
      grads.delete(v);
      if (!g) continue;
      if (v.isLeaf) {
        v.accumulate(g);
        continue;
      }
      const node = v.node!;
      // A rule that adds the first input's gathered gradient in its own kernel takes it here,
      // and its result replaces it (instead of an add of the two below).
      const first = node.inputs[0];
      const pending = node.accumulates && first?.requiresGrad ? (grads.get(first) ?? null) : null;
      const inputGrads = node.backward(g, pending);
      if (pending && inputGrads[0]) {
        grads.delete(first!);
        pending.dispose();
      }
      g.dispose();
      node.inputs.forEach((input, k) => {
        const ig = inputGrads[k];
        if (!ig) return;
        if (!input.requiresGrad) {
          ig.dispose();
          return;
        }
        const previous = grads.get(input);
        if (previous) {
          grads.set(input, add(previous, ig));
          previous.dispose();
          ig.dispose();
        } else {
          grads.set(input, ig);
        }
      });
      for (const t of node.saved) t.dispose();
    }
  }

  private accumulate(g: Tensor): void {
    if (this.grad) {
      const sum = add(this.grad, g);
      this.grad.dispose();
      g.dispose();
      this.grad = keep(sum);
    } else {
      this.grad = keep(g);
    }
  }
}

/** Variables reachable from `root` through nodes, inputs before the values made from them. */
function topologicalOrder(root: Variable): Variable[] {
  const order: Variable[] = [];
  const seen = new Set<Variable>();
  const stack: Array<[Variable, boolean]> = [[root, false]];
  while (stack.length > 0) {
    const [v, expanded] = stack.pop()!;
    if (expanded) {
      order.push(v);
      continue;
    }
    if (seen.has(v)) continue;
    seen.add(v);
    stack.push([v, true]);
    for (const input of v.node?.inputs ?? []) if (input.requiresGrad && !seen.has(input)) stack.push([input, false]);
  }
  return order;
}

/** A leaf that requires grad: a model parameter. */
export function parameter(data: Tensor): Variable {
  return new Variable(data, true);
}

/** A leaf that needs no gradient: inputs, targets, constants. */
export function constant(data: Tensor): Variable {
  return new Variable(data, false);
}

/**
 * Wraps an op's output: records a node when grad is enabled and some input requires grad. The
 * node's backward is the op's rule from the gradient table (registry.ts), given `saved`;
 * `caches` are tensors only that rule uses (freed after it runs, or now if nothing is recorded).
 */
export function record<K extends DifferentiableOp>(
  op: K,
  inputs: readonly Variable[],
  out: Tensor,
  saved: SavedFor[K],
  caches: readonly Tensor[] = [],
): Variable {
  if (isGradEnabled() && inputs.some((v) => v.requiresGrad)) {
    const rule = rules[op] as Rule<K>;
    const x = inputs.map((v) => v.data);
    const needsGrad = inputs.map((v) => v.requiresGrad);
    const backward = (g: Tensor, pending: Tensor | null = null) =>
      tidy(() => rule(g, { x, needsGrad, y: out, saved, pending }));
    const accumulates = accumulatesIntoFirst.has(op);
    return new Variable(out, true, { op, inputs, backward, saved: caches, accumulates });
  }
  for (const t of caches) t.dispose();
  return new Variable(out, false);
}

/** Wraps the output of an op that has no gradient (argmax, comparisons). */
export function nonDifferentiable(op: string, out: Tensor): Variable {
  return new Variable(out, false, null, op);
}
