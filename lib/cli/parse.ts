// Parsers of option values shared by the commands: a bad value fails in commander's own words,
// naming the option and what it allows.
import { InvalidArgumentError } from 'commander';

// Number('') is 0: an empty value would pass as zero.
const toNumber = (value: string): number => (value.trim() === '' ? NaN : Number(value));

export function positiveInt(field: string) {
  return (value: string): number => {
    const n = toNumber(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${field} must be a positive integer, got '${value}'`);
    return n;
  };
}

export function nonNegativeInt(field: string) {
  return (value: string): number => {
    const n = toNumber(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${field} must be an integer >= 0, got '${value}'`);
    return n;
  };
}

/** A guidance weight: 1 is no guidance, 0 the unconditional model. */
export function guidanceWeight(value: string): number {
  const n = toNumber(value);
  if (!(n >= 0)) throw new InvalidArgumentError(`--cfg must be a number >= 0, got '${value}'`);
  return n;
}
