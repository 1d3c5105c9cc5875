import { errorCodeOf, safeCode } from './redaction.js';

describe('error codes', () => {
  it('reads error codes of the usual shapes, never free text', () => {
    expect(errorCodeOf({ error: 'invalid_number' })).toBe('invalid_number');
    expect(errorCodeOf({ error: { code: 400, status: 'INVALID_ARGUMENT' } })).toBe('INVALID_ARGUMENT');
    expect(errorCodeOf({ error: { code: 429 } })).toBe('429');
    expect(errorCodeOf({ code: 'rate_limited' })).toBe('rate_limited');
    expect(errorCodeOf({ error: 'Number +233200000000 is not on WhatsApp' })).toBeUndefined();
    expect(errorCodeOf('invalid_number')).toBeUndefined();
    expect(safeCode('a'.repeat(65))).toBeUndefined();
    // A provider echoing the number as its "code" (review finding): never stored or logged.
    expect(errorCodeOf({ error: '233241234567' })).toBeUndefined();
    expect(errorCodeOf({ error: { code: 233241234567 } })).toBeUndefined();
    expect(errorCodeOf({ error: 'number_233241234567_invalid' })).toBeUndefined();
    expect(errorCodeOf({ error: { code: 131026 } })).toBe('131026');
  });
});
