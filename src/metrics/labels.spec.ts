import { countryOf, deliveryReason } from './labels.js';

describe('metric labels stay bounded', () => {
  it('countryOf gives the ISO country of an E.164 number, unknown otherwise', () => {
    expect(countryOf('+233241234567')).toBe('GH');
    expect(countryOf('+254712345678')).toBe('KE');
    expect(countryOf('not a phone')).toBe('unknown');
  });

  it('deliveryReason keeps short identifiers, lower-cased, and folds anything else', () => {
    expect(deliveryReason('RECIPIENT_NOT_REACHABLE')).toBe('recipient_not_reachable');
    expect(deliveryReason('all_providers_failed')).toBe('all_providers_failed');
    expect(deliveryReason('stuck sent')).toBe('stuck_sent');
    expect(deliveryReason('x'.repeat(100))).toHaveLength(40);
    expect(deliveryReason('')).toBe('other');
    // Never a phone number (Decision 8), whatever a provider puts in its reason.
    expect(deliveryReason('+233241234567')).toBe('other');
    expect(deliveryReason('not_delivered_to_233241234567')).toBe('other');
  });
});
