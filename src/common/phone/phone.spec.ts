import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { maskPhone, normalisePhone } from './phone.js';

/** Fixed seed: a failure replays with the same seed and path (fast-check prints both on failure). */
const SEED = 20240917;
const params = { seed: SEED, numRuns: 200 };

/** Valid Ghanaian mobiles (MTN 24, 54, 55, 59; Vodafone 20, 50; AirtelTigo 26, 27, 56, 57). */
const ghMobile = fc
  .tuple(
    fc.constantFrom('24', '54', '55', '59', '20', '50', '26', '27', '56', '57'),
    fc.stringMatching(/^\d{7}$/),
  )
  .map(([prefix, rest]) => `+233${prefix}${rest}`);

/** A person's spelling of an E.164 number: separators between digit groups, optional brackets. */
function spell(e164: string, seps: string[], national: boolean, brackets: boolean): string {
  const digits = national ? `0${e164.slice(4)}` : e164.slice(1);
  const groups = digits.match(/.{1,3}/g) as string[];
  let out = national ? '' : '+';
  groups.forEach((g, i) => {
    const part = brackets && i === 0 ? `(${g})` : g;
    out += part + (i < groups.length - 1 ? seps[i % seps.length] : '');
  });
  return out;
}

describe('normalisePhone (property-based)', () => {
  it('never throws on any input, and answers undefined or an E.164 mobile', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.anything()),
        fc.option(fc.oneof(fc.string(), fc.constantFrom('GH', 'gh', 'NG', 'US', 'XX', '')), {
          nil: undefined,
        }),
        (input, country) => {
          const out = normalisePhone(input as string, country);
          if (out !== undefined) expect(out.e164).toMatch(/^\+[1-9]\d{6,14}$/);
        },
      ),
      params,
    );
  });

  it('is idempotent on its own E.164 output', () => {
    fc.assert(
      fc.property(
        fc.oneof(ghMobile, fc.stringMatching(/^\+?[0-9 ()-]{4,20}$/)),
        fc.constantFrom('GH', 'NG', 'US', undefined),
        (input, country) => {
          const once = normalisePhone(input, country);
          if (!once) return;
          expect(normalisePhone(once.e164)).toEqual(once);
          expect(normalisePhone(once.e164, 'US')).toEqual(once);
        },
      ),
      params,
    );
  });

  it('spellings with spaces, dashes, dots and brackets of a valid number normalise identically', () => {
    fc.assert(
      fc.property(
        ghMobile,
        fc.array(fc.constantFrom(' ', '-', '.', '  ', ' - ', '\u00a0', ''), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        (e164, seps, national, brackets) => {
          const expected = normalisePhone(e164);
          expect(expected?.e164).toBe(e164);
          const spelled = spell(e164, seps, national, brackets);
          expect([spelled, normalisePhone(spelled, 'GH')?.e164]).toEqual([spelled, e164]);
          expect(normalisePhone(`00${e164.slice(1)}`)?.e164).toBe(e164);
          expect(normalisePhone(`  ${spelled}\t`, 'GH')?.e164).toBe(e164);
        },
      ),
      params,
    );
  });

  it('refuses over-long input and anything with letters or control characters mixed into the digits', () => {
    fc.assert(
      fc.property(
        ghMobile,
        fc.constantFrom('a', 'x', '\u0000', '\u001b', '#', '*', ';', '\u202e'),
        fc.nat(),
        (e164, junk, at) => {
          const i = 2 + (at % (e164.length - 2));
          expect(normalisePhone(e164.slice(0, i) + junk + e164.slice(i))).toBeUndefined();
          expect(normalisePhone(e164 + ' '.repeat(64))).toBeUndefined();
        },
      ),
      params,
    );
  });

  it('accepts exactly the numbers libphonenumber calls valid and mobile-capable (one type lookup for both)', () => {
    const mobileCapable = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);
    fc.assert(
      fc.property(
        fc.oneof(
          ghMobile,
          // +1 (many countries share it), +44, +7, +233, +234 and any other calling code
          fc
            .tuple(fc.constantFrom('1', '44', '7', '233', '234', '91', '86'), fc.stringMatching(/^\d{4,12}$/))
            .map(([cc, n]) => `+${cc}${n}`),
          fc.stringMatching(/^\+[1-9]\d{5,14}$/),
        ),
        (e164) => {
          const parsed = parsePhoneNumberFromString(e164);
          const expected = Boolean(parsed?.isValid() && mobileCapable.has(parsed.getType() ?? ''));
          expect([e164, normalisePhone(e164) !== undefined]).toEqual([e164, expected]);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('maskPhone never reveals more than the first 4 and last 2 characters', () => {
    fc.assert(
      fc.property(ghMobile, (e164) => {
        const masked = maskPhone(e164);
        expect(masked).toHaveLength(e164.length);
        expect(masked).not.toContain(e164.slice(4, -2));
      }),
      params,
    );
  });
});

describe('normalisePhone (recent answers)', () => {
  it('answers a repeated spelling the same as the first time, valid or not, per default country', () => {
    fc.assert(
      fc.property(ghMobile, fc.boolean(), (e164, national) => {
        const spelling = national ? `0${e164.slice(4)}` : e164;
        const first = normalisePhone(spelling, 'GH');
        expect(normalisePhone(spelling, 'GH')).toEqual(first);
        expect(first?.e164).toBe(e164);
        // The national spelling means nothing without the default country, cached or not.
        if (national) expect(normalisePhone(spelling)).toBeUndefined();
      }),
      params,
    );
    expect(normalisePhone('+23312')).toBeUndefined();
    expect(normalisePhone('+23312')).toBeUndefined();
  });

  it('hands out shared answers that nobody can change', () => {
    const a = normalisePhone('+233 24 123 4567') as { e164: string };
    expect(() => {
      a.e164 = '+15550000000';
    }).toThrow(TypeError);
    expect(normalisePhone('+233 24 123 4567')?.e164).toBe('+233241234567');
  });
});
