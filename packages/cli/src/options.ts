/** Parsers for option values: a bad value is a usage error (exit 2) naming the option. */
import { type DeviceChoice, deviceChoices, parseDeviceChoice } from '@mini/tensor';
import { InvalidArgumentError } from 'commander';

export function number(what: string, check: (n: number) => boolean = Number.isFinite) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n))
      throw new InvalidArgumentError(`${what} expected, got "${value}"`);
    return n;
  };
}

export const positiveInt = number('a positive integer', (n) => Number.isInteger(n) && n > 0);
export const nonNegativeInt = number('an integer >= 0', (n) => Number.isInteger(n) && n >= 0);
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

export function dtype(value: string): 'auto' | 'float32' | 'float16' | 'bfloat16' {
  if (value !== 'auto' && value !== 'float32' && value !== 'float16' && value !== 'bfloat16') {
    throw new InvalidArgumentError(`auto, float32, float16 or bfloat16 expected, got "${value}"`);
  }
  return value;
}

/** A file or folder argument: an empty one would mean the current folder (--out "" wrote the run there). */
export function path(value: string): string {
  if (value === '') throw new InvalidArgumentError('a path expected, got an empty string');
  return value;
}
