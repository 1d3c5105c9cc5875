import type { ProviderName } from '../config/index.js';

/**
 * What a failed provider call means for the delivery engine (one model for every provider):
 * - retryable: try the same provider again soon (5xx, timeouts, resets); counts towards its circuit;
 * - rate_limited: the provider asked us to wait (429, a rate-limit code), for `retryAfterMs` when it
 *   said how long. `scope: 'provider'` pauses the provider for every code (its own limit, e.g. DNZ's
 *   120 a minute per key); `scope: 'recipient'` delays only this code (a pair limit such as Meta's
 *   131056). Never retried inside the job: the job is rescheduled through the queue, or the code
 *   falls back when it would expire first. Does not count towards the circuit;
 * - permanent: this message will never go through this provider (invalid number, not on
 *   WhatsApp, bad request): fall back for this code at once, without counting against the
 *   provider's health (a crafted number must not switch a provider off for everyone);
 * - configuration: the provider is wrong for every code (401/403, a revoked token, a missing
 *   template): it is marked misconfigured and skipped by every code for 5 minutes, and the code
 *   falls back.
 */
export type ProviderErrorKind = 'retryable' | 'rate_limited' | 'permanent' | 'configuration';

/** Who a rate limit applies to (ProviderErrorKind `rate_limited`). */
export type RateLimitScope = 'provider' | 'recipient';

export interface ProviderErrorOptions {
  httpStatus?: number;
  /** How long the provider asked us to wait (Retry-After), in ms. */
  retryAfterMs?: number;
  /**
   * Who the error concerns. On `rate_limited`: the provider's own limit (default, pauses it for
   * every code) or this recipient's (delays this code only). `recipient` on any kind also means it
   * never counts towards opening the provider's circuit (a crafted number must not switch the
   * provider off for everyone).
   */
  scope?: RateLimitScope;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';

  constructor(
    readonly provider: ProviderName,
    readonly kind: ProviderErrorKind,
    /** Short machine code: the provider's own error code when it has one, else e.g. `timeout`, `http_503`. */
    readonly errorCode: string,
    message: string,
    readonly options: ProviderErrorOptions = {},
  ) {
    super(message);
  }
}
