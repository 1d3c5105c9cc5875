import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { LRUCache } from 'lru-cache';

/** Number types a WhatsApp account can live on. Fixed lines, premium, toll-free etc. are refused. */
const MOBILE_CAPABLE = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

export interface NormalisedPhone {
  e164: string;
  country: string | undefined;
}

/**
 * The answers for the most recent spellings: a code is verified minutes after it was sent, with
 * the number spelt the same way, and libphonenumber's validation and type lookup are the largest
 * single cost of a verify after the database round trips (bench/PROFILE.md). Bounded, so a flood
 * of distinct numbers only cycles it; the results are frozen because callers share them.
 */
const INVALID = Symbol('invalid phone');
const recent = new LRUCache<string, Readonly<NormalisedPhone> | typeof INVALID>({ max: 10_000 });

/**
 * Normalises any common spelling of a number (spaces, dashes, brackets, dots, national format with
 * a default country, the `00` international prefix) to E.164. Returns undefined when the number is
 * invalid or cannot be a mobile number. Uses libphonenumber's full metadata, which knows types.
 */
export function normalisePhone(input: string, defaultCountry?: string): NormalisedPhone | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const key = `${defaultCountry ?? ''}|${input}`;
  const known = recent.get(key);
  if (known !== undefined) return known === INVALID ? undefined : known;
  const result = parse(input, defaultCountry);
  recent.set(key, result ? Object.freeze(result) : INVALID);
  return result;
}

function parse(input: string, defaultCountry: string | undefined): NormalisedPhone | undefined {
  let text = input.trim().replace(/[\s().\-\u00a0\u2010-\u2015]/g, '');
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  if (!/^\+?\d{4,20}$/.test(text)) return undefined;
  const parsed = parsePhoneNumberFromString(text, {
    defaultCountry: defaultCountry?.toUpperCase() as CountryCode | undefined,
    extract: false,
  });
  if (!parsed) return undefined;
  // With the full metadata (types known for every country), isValid() is exactly "getType() is
  // defined" (libphonenumber-js isValidNumber): one type lookup answers both, where two calls
  // made it twice (bench/PROFILE.md, issue 18).
  const type = parsed.getType();
  if (!type || !MOBILE_CAPABLE.has(type)) return undefined;
  return { e164: parsed.number, country: parsed.country };
}

/** `+233200000000` → `+233*******00`: enough to correlate logs, never the whole number. */
export function maskPhone(phone: string | undefined | null): string {
  if (!phone) return '';
  if (phone.length <= 6) return '*'.repeat(phone.length);
  return `${phone.slice(0, 4)}${'*'.repeat(phone.length - 6)}${phone.slice(-2)}`;
}
