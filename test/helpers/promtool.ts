import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * promtool (Debian's `prometheus` package ships it): optional. Its path, or undefined with the
 * reason printed, so the checks that need it skip visibly instead of failing CI for its absence.
 */
export function findPromtool(what: string): string | undefined {
  const bin = [
    process.env.PROMTOOL_BIN,
    ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'promtool')),
  ]
    .filter((c): c is string => !!c)
    .find((c) => existsSync(c));
  if (!bin)
    console.warn(`${what} skipped: no promtool on PATH (apt-get install prometheus, or set PROMTOOL_BIN)`);
  return bin;
}
