/**
 * The CLI's environment, read and checked in one place: @mini/tensor's MINI_GPT_* variables
 * (configureNode: MINI_GPT_DEVICE, MINI_GPT_WEBGPU_BACKEND, MINI_GPT_WEBGPU_SUBGROUPS,
 * MINI_GPT_WEBGPU_CAPTURE, MINI_GPT_CPU_HEAP, MINI_GPT_THREADS, MINI_GPT_NATIVE, MINI_GPT_NATIVE_ISA) and the CLI's own
 * (MINI_GPT_CACHE, MINI_GPT_DATA_URL). main.ts calls configureCli before any command runs, so a bad value is
 * one line and exit 2 before any work; --help and --version do not read them.
 */
import { EnvironmentError, environmentValue } from '@mini/tensor';
import { configureNode } from '@mini/tensor/node';

/** The book's text, The Verdict, in the book's repository (train's default data). */
export const VERDICT_URL =
  'https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt';

/** MINI_GPT_CACHE: mini-gpt's own cache folder (undefined when unset or empty: "" would be the current folder). */
export function cacheSetting(): string | undefined {
  return environmentValue('MINI_GPT_CACHE');
}

/**
 * MINI_GPT_DATA_URL (an http or https URL; empty is unset), else the book's repository.
 * @throws EnvironmentError for anything else
 */
export function dataUrlSetting(): string {
  const value = environmentValue('MINI_GPT_DATA_URL');
  if (value === undefined) return VERDICT_URL;
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {}
  if (protocol !== 'http:' && protocol !== 'https:')
    throw new EnvironmentError(
      `MINI_GPT_DATA_URL=${JSON.stringify(value)}: use an http:// or https:// URL of the text, or leave it unset`,
    );
  return value;
}

/**
 * Reads and checks every MINI_GPT_* variable the CLI and the library read.
 * @throws EnvironmentError (exit 2) for the first bad value, in one line naming it
 */
export function configureCli(): void {
  configureNode();
  dataUrlSetting();
  cacheSetting();
}
