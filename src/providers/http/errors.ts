import { isAxiosError } from 'axios';
import type { ProviderName } from '../../config/index.js';
import { ProviderError, type ProviderErrorKind, type RateLimitScope } from '../provider.error.js';
import { abortedError } from './abort.js';
import { errorCodeOf } from './redaction.js';
import { parseRetryAfter } from './retry-after.js';
import type { ProviderResponse } from './client.js';

/**
 * The default reading of a status with no better information: 401/403 and redirects are
 * configuration, 429 a rate limit (of the provider, for every code), 408/425 and 5xx retryable,
 * other 4xx permanent.
 */
export function kindOfStatus(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return 'configuration';
  if (status === 429) return 'rate_limited';
  if (status === 408 || status === 425 || status >= 500) return 'retryable';
  if (status >= 300 && status < 400) return 'configuration';
  return 'permanent';
}

/**
 * A ProviderError for an HTTP answer: the body's error code when it has one, else `http_<status>`,
 * with the answer's Retry-After (seconds or an HTTP date). A `rate_limited` error is the
 * provider's own limit unless `scope` says it is this recipient's.
 */
export function httpError(
  provider: ProviderName,
  res: ProviderResponse,
  kind: ProviderErrorKind = kindOfStatus(res.status),
  errorCode: string = errorCodeOf(res.json) ?? `http_${res.status}`,
  scope?: RateLimitScope,
): ProviderError {
  return new ProviderError(
    provider,
    kind,
    errorCode,
    `${provider} answered HTTP ${res.status} (${errorCode})`,
    {
      httpStatus: res.status,
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
      ...(kind === 'rate_limited' ? { scope: scope ?? 'provider' } : {}),
    },
  );
}

/** A 2xx whose body is not what the provider promises (HTML, truncated JSON, missing id): retry. */
export function invalidResponse(provider: ProviderName, res: ProviderResponse): ProviderError {
  return new ProviderError(
    provider,
    'retryable',
    'invalid_response',
    `${provider} answered HTTP ${res.status} with an unexpected body`,
    { httpStatus: res.status },
  );
}

const NETWORK_CODES: Record<string, string> = {
  ECONNABORTED: 'timeout',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  ECONNREFUSED: 'connection_refused',
  EHOSTUNREACH: 'network_unreachable',
  ENETUNREACH: 'network_unreachable',
  ENOTFOUND: 'dns_error',
  EAI_AGAIN: 'dns_error',
};

/**
 * Turns an axios/network error into a ProviderError without keeping the original: an axios error
 * carries the request config (keys, Authorization, the message), so nothing of it may travel on.
 */
export function toProviderError(
  provider: ProviderName,
  err: unknown,
  context: { timedOut?: boolean; aborted?: boolean } = {},
): ProviderError {
  if (err instanceof ProviderError) return err;
  if (context.aborted) return abortedError(provider);
  const make = (kind: ProviderErrorKind, code: string) =>
    new ProviderError(provider, kind, code, `${provider} request failed (${code})`);
  if (context.timedOut) return make('retryable', 'timeout');
  const code = isAxiosError(err) ? err.code : (err as { code?: unknown } | null)?.code;
  const text = err instanceof Error ? err.message : '';
  const causeCode = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  for (const candidate of [code, causeCode]) {
    if (typeof candidate === 'string' && NETWORK_CODES[candidate])
      return make('retryable', NETWORK_CODES[candidate]);
  }
  if (/socket hang up|stream has been aborted/i.test(text)) return make('retryable', 'connection_reset');
  if (/timeout/i.test(text)) return make('retryable', 'timeout');
  if (/maxContentLength/i.test(text) || (typeof code === 'string' && code.startsWith('HPE_'))) {
    return make('retryable', 'invalid_response');
  }
  if (code === 'ERR_INVALID_URL' || code === 'ERR_BAD_OPTION_VALUE' || code === 'ERR_BAD_OPTION') {
    return make('configuration', 'invalid_url');
  }
  return make('retryable', 'network_error');
}
