/**
 * MINI_GPT_* environment variables, each read and checked by one function here (cpuHeapSetting,
 * webgpuBackendSetting, deviceSetting, threadsSetting, nativeSetting), which the code that uses
 * a variable calls when it needs it, and @mini/tensor/node's configureNode calls all at once
 * (the CLI does, before a command runs): a bad value is an EnvironmentError of one line naming
 * the variable and the values it accepts (the CLI exits 2), never a stack trace at import and
 * never a silent fallback.
 */
import { MiniGptError } from './errors.js';

/** A MINI_GPT_* variable holds a value it does not accept. */
export class EnvironmentError extends MiniGptError {
  override name = 'EnvironmentError';
  /** The user's setting, not a fault: a usage error. */
  override readonly exitCode = 2;
}

/** The variable's value; unset and empty are both undefined. */
export function environmentValue(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name] || undefined;
}

/**
 * The variable's value when it is one of `choices`, `fallback` when unset or empty.
 * @throws EnvironmentError naming the variable, the value and the choices
 */
export function environmentChoice<C extends string>(name: string, choices: readonly C[], fallback: C): C {
  const value = environmentValue(name);
  if (value === undefined) return fallback;
  const choice = choices.find((c) => c === value);
  if (choice === undefined)
    throw new EnvironmentError(`${name}=${JSON.stringify(value)}: use ${choices.join(', ')} (or leave it unset)`);
  return choice;
}

/**
 * `text` as a decimal number (digits, a point, an exponent; spaces around), as Python's float()
 * reads it; NaN for anything else. Not JS's Number(), which also reads "0x10", "0b11" and
 * "0o17" (`--lr 0x1` trained at 1) and takes "" as 0.
 */
export function decimalNumber(text: string): number {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text) : Number.NaN;
}

/**
 * The variable as a whole number of at least `min`, capped at `max` (a larger value is taken as
 * `max`); undefined when unset or empty.
 * @throws EnvironmentError for anything but digits, or a number below `min`
 */
export function environmentCount(name: string, min: number, max: number, what: string): number | undefined {
  const value = environmentValue(name);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new EnvironmentError(
      `${name}=${JSON.stringify(value)}: use a whole number from ${min} to ${max} (${what}), or leave it unset`,
    );
  return Math.min(n, max);
}

// ---- The variables, each read and checked here (configureNode reads them all at once) ----

/** MINI_GPT_CPU_HEAP's values: the fast CPU backend's WebAssembly heap. */
export const cpuHeapChoices = ['auto', 'wasm32', 'memory64'] as const;
export type CpuHeapChoice = (typeof cpuHeapChoices)[number];

/**
 * MINI_GPT_CPU_HEAP (auto, wasm32 or memory64; Node only): the fast CPU backend's heap. auto
 * (default) takes memory64 where the runtime has it; wasm32 keeps the 4 GiB heap (to compare).
 * @throws EnvironmentError for another value
 */
export function cpuHeapSetting(): CpuHeapChoice {
  return environmentChoice('MINI_GPT_CPU_HEAP', cpuHeapChoices, 'auto');
}

/** MINI_GPT_WEBGPU_BACKEND's values: the Dawn backends. */
export const webgpuBackends = ['vulkan', 'opengl', 'opengles', 'metal', 'd3d12'] as const;

/** MINI_GPT_WEBGPU_BACKEND: one Dawn backend only; undefined when unset. @throws EnvironmentError for a backend Dawn does not have */
export function webgpuBackendSetting(): string | undefined {
  const value = environmentValue('MINI_GPT_WEBGPU_BACKEND');
  return value === undefined ? undefined : environmentChoice('MINI_GPT_WEBGPU_BACKEND', webgpuBackends, 'vulkan');
}

/**
 * MINI_GPT_WEBGPU_SUBGROUPS (0: off; 1 or unset: on where the adapter offers `subgroups`): whether
 * a WebGPU device requests the feature, and so whether the row kernels run their subgroup
 * variants (docs/webgpu-kernels.md, "Subgroups"). 0 rules out a driver's subgroup bug.
 * @throws EnvironmentError for another value
 */
export function webgpuSubgroupsSetting(): boolean {
  return environmentChoice('MINI_GPT_WEBGPU_SUBGROUPS', ['0', '1'] as const, '1') === '1';
}

/**
 * MINI_GPT_WEBGPU_CAPTURE (0: off; 1 or unset: on): whether trainModel on WebGPU captures a
 * training step once and replays it (docs/webgpu-host.md, "Capture and replay") instead of
 * running every op's JavaScript each step. 0 runs every step eagerly (to compare, or to rule
 * the replay out).
 * @throws EnvironmentError for another value
 */
export function webgpuCaptureSetting(): boolean {
  return environmentChoice('MINI_GPT_WEBGPU_CAPTURE', ['0', '1'] as const, '1') === '1';
}

/**
 * MINI_GPT_DEVICE: the device `auto` and an unnamed getDevice() mean; undefined when unset.
 * @param kinds the device kinds registered ('cpu', 'webgpu', ...)
 * @throws EnvironmentError for a value that is neither auto nor one of `kinds`
 */
export function deviceSetting(kinds: readonly string[]): string | undefined {
  const value = environmentValue('MINI_GPT_DEVICE');
  return value === undefined ? undefined : environmentChoice('MINI_GPT_DEVICE', ['auto', ...kinds], 'auto');
}

/**
 * MINI_GPT_THREADS: how many threads the fast CPU kernels use (default and cap: `cores`; a
 * larger number is taken as `cores`).
 * @throws EnvironmentError for a value that is not a whole number of at least 1
 */
export function threadsSetting(cores: number): number {
  return environmentCount('MINI_GPT_THREADS', 1, cores, `this machine has ${cores} cores`) ?? cores;
}

/**
 * MINI_GPT_NATIVE (0: WebAssembly kernels only; 1 or unset: the native addon where built) and
 * MINI_GPT_NATIVE_ISA (avx512 or avx2: the addon's kernels on an AVX-512 machine), from `env`.
 * @throws EnvironmentError for another value of either
 */
export function nativeSetting(env: Record<string, string | undefined>): {
  native: boolean;
  isa: 'avx512' | 'avx2' | undefined;
} {
  const native = env.MINI_GPT_NATIVE || undefined;
  if (native !== undefined && native !== '0' && native !== '1')
    throw new EnvironmentError(
      `MINI_GPT_NATIVE=${JSON.stringify(native)}: use 0 (WebAssembly kernels only) or 1 (native where built), or leave it unset`,
    );
  const isa = env.MINI_GPT_NATIVE_ISA || undefined;
  if (isa !== undefined && isa !== 'avx512' && isa !== 'avx2')
    throw new EnvironmentError(`MINI_GPT_NATIVE_ISA=${JSON.stringify(isa)}: use avx512 or avx2, or leave it unset`);
  return { native: native !== '0', isa };
}
