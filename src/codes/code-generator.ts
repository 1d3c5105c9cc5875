import { randomInt } from 'node:crypto';

/** `length` decimal digits from the CSPRNG, uniformly distributed (leading zeros kept). */
export function generateCode(length: number): string {
  return randomInt(0, 10 ** length)
    .toString()
    .padStart(length, '0');
}
