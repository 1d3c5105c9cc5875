import type { ProviderName } from '../config/index.js';

/**
 * retryable: try the same provider again later (5xx, 429, timeouts, resets);
 * permanent: this message will never go through this provider (invalid number, bad request);
 * configuration: the provider is misconfigured (401/403); skip it and mark it unhealthy.
 */
export type ProviderErrorKind = 'retryable' | 'permanent' | 'configuration';

export class ProviderError extends Error {
  override readonly name = 'ProviderError';

  constructor(
    readonly provider: ProviderName,
    readonly kind: ProviderErrorKind,
    /** Short machine code: the provider's own error code when it has one, else e.g. `timeout`, `http_503`. */
    readonly errorCode: string,
    message: string,
    readonly options: {
      httpStatus?: number;
      retryAfterMs?: number;
      /**
       * `recipient`: the error concerns this one recipient (e.g. Meta's pair rate limit): retried
       * like any retryable error, but it never counts towards opening the provider's circuit.
       */
      scope?: 'recipient';
    } = {},
  ) {
    super(message);
  }
}
