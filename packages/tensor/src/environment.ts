/**
 * MINI_GPT_* environment variables, read and checked where they are used: a bad value is an
 * EnvironmentError of one line naming the variable and the values it accepts (the CLI exits 2),
 * never a stack trace at import and never a silent fallback.
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
