import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Bounded label values (Decision 8: never a phone, an id or a caller's string). A country is one
 * of ~250 ISO 3166 codes; a delivery failure reason is the service's own or a provider's error
 * code, reduced to a short identifier.
 */
export function countryOf(e164: string): string {
  return parsePhoneNumberFromString(e164)?.country ?? 'unknown';
}

const REASON = /^[a-z][a-z0-9_]{0,39}$/;

/** An identifier-like reason (`recipient_not_reachable`, `http_429`); `other` for anything else, numbers included. */
export function deliveryReason(reason: string): string {
  const r = reason
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 40);
  return REASON.test(r) && !/\d{5}/.test(r) ? r : 'other';
}
