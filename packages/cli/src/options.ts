/** Parsers for option values: a bad value is a usage error (exit 2) naming the option. */
import { type DeviceChoice, decimalNumber, deviceChoices, parseDeviceChoice } from '@mini/tensor';
import { InvalidArgumentError } from 'commander';

export function number(what: string, check: (n: number) => boolean = Number.isFinite) {
  return (value: string): number => {
    const n = decimalNumber(value); // not Number(): "0x1" is no learning rate
    if (!Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`${what} expected, got "${value}"`);
    return n;
  };
}

export const positiveInt = number('a positive integer', (n) => Number.isInteger(n) && n > 0);
export const nonNegativeInt = number('an integer >= 0', (n) => Number.isInteger(n) && n >= 0);
/** A seed: an integer a double holds exactly (what runSeeds and Python's random accept here). */
export const seed = number(
  'an integer from 0 to 9007199254740991 (2^53 - 1)',
  (n) => Number.isInteger(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER,
);
export const positive = number('a number > 0', (n) => n > 0);
export const nonNegative = number('a number >= 0', (n) => n >= 0);
export const probability = number('a number in [0, 1)', (n) => n >= 0 && n < 1);
export const fraction = number('a number in (0, 1)', (n) => n > 0 && n < 1);

export function device(value: string): DeviceChoice {
  const choice = parseDeviceChoice(value);
  if (!choice)
    throw new InvalidArgumentError(
      `${deviceChoices.slice(0, -1).join(', ')} or ${deviceChoices.at(-1)} expected, got "${value}"`,
    );
  return choice;
}

export function dtype(value: string): 'auto' | 'float32' | 'float16' | 'bfloat16' | 'int8' | 'int4' {
  const all = ['auto', 'float32', 'float16', 'bfloat16', 'int8', 'int4'] as const;
  if (!(all as readonly string[]).includes(value))
    throw new InvalidArgumentError(`auto, float32, float16, bfloat16, int8 or int4 expected, got "${value}"`);
  return value as (typeof all)[number];
}

/** A hub revision (branch, tag or commit): an empty one names nothing. */
export function revision(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('a branch, tag or commit expected, got an empty string');
  return value;
}

/** A file or folder argument: an empty one would mean the current folder (--out "" wrote the run there). */
export function path(value: string): string {
  if (value === '') throw new InvalidArgumentError('a path expected, got an empty string');
  return value;
}
