import type { ProviderErrorKind, RateLimitScope } from '../provider.error.js';

/**
 * How a WhatsApp Cloud API error is handled, decided by `error.code` whatever the HTTP status
 * (Meta answers rate limits with HTTP 400). Four classes:
 * - `rate_limited`: Meta asked us to wait; never retried inside the job, the delivery engine waits
 *   through the queue. `scope: 'recipient'` (131056, the pair rate limit) delays this code only,
 *   for Meta's documented 6 s, and never counts against the provider's health; `scope: 'provider'`
 *   (throughput, account, app and spam limits) pauses `meta` for every code, for
 *   DELIVERY_RATE_LIMIT_WAIT_SECONDS (Meta sends no Retry-After and documents no wait);
 * - `retryable`: a temporary failure, tried again with the service's own backoff;
 * - `configuration`: provider-wide and permanent until an operator acts (token, permissions,
 *   template, account): the provider is marked misconfigured and skipped (its "circuit" opens for
 *   every replica, see ProviderStatesRepository) and the next provider is tried at once;
 * - `permanent`: this recipient cannot get this message (not on WhatsApp, bad parameter for
 *   this number): the next provider is tried for this code only; the provider stays healthy.
 */
export interface MetaErrorClass {
  kind: ProviderErrorKind;
  scope?: RateLimitScope;
  /** A wait Meta documents for this limit, when it documents one. */
  retryAfterMs?: number;
}

/** 131056: Meta allows about one message every 6 s to the same user (its "pair rate limit"). */
export const PAIR_RATE_LIMIT_WAIT_MS = 6_000;

/** Meta's limits on the whole sender (app, account or phone number): they pause `meta` for every code. */
const PROVIDER_RATE_LIMITS = new Set([
  4, // API Too Many Calls: app-level rate limit
  80007, // WhatsApp Business Account rate limit
  130429, // Cloud API throughput limit
  131048, // Spam rate limit (phone-number-wide)
]);

const RETRYABLE = new Set([
  1, // API Unknown (Meta: "temporary … retry")
  2, // API Service: temporary downtime
  131000, // Something went wrong
  131016, // Service unavailable
  131057, // Account in maintenance mode
]);

const CONFIGURATION = new Set([
  0, // AuthException
  3, // API Method: the app lacks the capability
  10, // Permission denied
  190, // Access token expired or invalid
  368, // Temporarily blocked for policy violations
  131005, // Access denied
  131031, // Account locked
  131037, // Display name approval needed
  131042, // Business eligibility (payment) issue
  131045, // Incorrect certificate (phone number registration)
]);

const PER_RECIPIENT = new Set([
  100, // Invalid parameter (PROVIDERS.md: per recipient; a bad template param is 132000/132012)
  131008, // Required parameter missing
  131009, // Parameter value is not valid (e.g. the number)
  131021, // Recipient cannot be the sender
  131026, // Message undeliverable: not on WhatsApp, old app, terms not accepted
  131030, // Recipient not in the allowed list (test phone numbers)
  131047, // Re-engagement window (never for templates, but per recipient if it happens)
  131051, // Unsupported message type
  130472, // The user's number is part of an experiment
]);

/** The class of a Cloud API error code; `undefined` when the code is unknown (the HTTP status decides). */
export function classifyMetaError(code: number): MetaErrorClass | undefined {
  if (code === 131056)
    return { kind: 'rate_limited', scope: 'recipient', retryAfterMs: PAIR_RATE_LIMIT_WAIT_MS };
  if (PROVIDER_RATE_LIMITS.has(code)) return { kind: 'rate_limited', scope: 'provider' };
  if (RETRYABLE.has(code)) return { kind: 'retryable' };
  if (CONFIGURATION.has(code)) return { kind: 'configuration' };
  // Permissions (200-299), template errors (132000-132069: missing, paused, disabled, parameter
  // count or format mismatch, flow errors), registration (133000-133016).
  if (code >= 200 && code <= 299) return { kind: 'configuration' };
  if (code >= 132000 && code <= 132069) return { kind: 'configuration' };
  if (code >= 133000 && code <= 133016) return { kind: 'configuration' };
  if (PER_RECIPIENT.has(code)) return { kind: 'permanent' };
  return undefined;
}
