import { IsInt, Max, Min } from 'class-validator';
import { Transform } from 'class-transformer';

/** `true`/`false`/`1`/`0`/`yes`/`no` → boolean; anything else is left as is so validation names it. */
export const ToBoolean = () =>
  Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string') return value;
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no'].includes(v)) return false;
    return value;
  });

/** Integer parse that leaves non-numeric text alone, so `@IsInt` reports it by name. */
export const ToInt = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value,
  );

/** Comma-separated list, trimmed, empties dropped. */
export const ToList = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : value,
  );

/**
 * An integer variable within [min, max]: parsed from text, and validated with messages that name
 * the variable (`OTP_LENGTH must be an integer between 6 and 10`).
 */
export const IntRange =
  (min: number, max = Number.MAX_SAFE_INTEGER): PropertyDecorator =>
  (target, key) => {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    const message = `${String(key)} must be an integer ${range}`;
    for (const decorator of [ToInt(), IsInt({ message }), Min(min, { message }), Max(max, { message })]) {
      decorator(target, key);
    }
  };
