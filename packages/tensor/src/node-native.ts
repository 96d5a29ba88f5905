/**
 * Loads the native kernels' addon (packages/tensor/native/build/Release/mini_gpt_native.node,
 * built at install by scripts/build-native.mjs) for node.ts. MINI_GPT_NATIVE=0 turns it off;
 * MINI_GPT_NATIVE_ISA=avx2 picks the AVX2 kernels on an AVX-512 machine (tests run both).
 * Nothing here throws: a missing or unloadable addon is a status line, and WebAssembly runs.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeKernels, type NativeStatus, isaName } from './cpu-fast/native.js';
import { nativeSetting } from './environment.js';

interface Addon {
  sgemm: NativeKernels['sgemm'];
  qgemv: NativeKernels['qgemv'];
  isa(): string | null;
  qgemvIsa(): string | null;
  setIsa(name: string): boolean;
  hugePages?: NativeKernels['hugePages'];
}

/** The addon file: the same relative path from src/ (tests) and dist/ (the build). */
export const nativeAddonPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '../native/build/Release/mini_gpt_native.node',
);

/**
 * The addon's kernels, or null with the reason, as one status for the device line. `env` and
 * `path` default to this process's environment and the built addon (tests pass others).
 */
export function loadNativeKernels(
  env: Record<string, string | undefined> = process.env,
  path = nativeAddonPath,
): NativeStatus {
  const { native, isa: wanted } = nativeSetting(env);
  if (!native) return { kernels: null, summary: 'native kernels off (MINI_GPT_NATIVE=0)' };
  if (!existsSync(path)) return { kernels: null, summary: 'native kernels not built (no C compiler at install?)' };
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (e) {
    return { kernels: null, summary: `native kernels failed to load (${(e as Error).message.split('\n')[0]})` };
  }
  if (wanted && !addon.setIsa(wanted))
    return { kernels: null, summary: `native kernels off (this CPU has no ${wanted})` };
  if (typeof addon.qgemvIsa !== 'function')
    return { kernels: null, summary: 'native kernels out of date (an older build: run npm run build)' };
  const isa = addon.isa();
  const qgemvIsa = addon.qgemvIsa();
  if (!isa || !qgemvIsa)
    return { kernels: null, summary: 'native kernels off (this CPU has neither AVX-512 nor AVX2+FMA+F16C)' };
  return {
    kernels: { isa, sgemm: addon.sgemm, qgemvIsa, qgemv: addon.qgemv, hugePages: addon.hugePages },
    summary: `native ${isaName(isa)} matmul, ${isaName(qgemvIsa)} quantized matvec`,
  };
}
