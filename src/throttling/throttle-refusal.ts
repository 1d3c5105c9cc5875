import type { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { ApiException } from '../common/errors/api.exception.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { STORE_UNAVAILABLE } from './throttle-keys.js';
import { ThrottleStoreUnavailableError } from './throttler-storage.js';

export interface Bucket {
  name: string;
  key: string;
  limit: number;
  ttl: number;
  /** How long a tripped bucket stays shut (ms); the window length by default. */
  blockDuration?: number;
  /** Log fields of a refusal: never a full phone number (maskPhone) nor a code. */
  log: Record<string, unknown>;
}

/**
 * Counts one hit in a bucket. Over the limit: `429 rate_limited` with Retry-After, counted and
 * logged. Store down (and no fallback for this bucket): `503 service_unavailable`. Throws before the
 * handler runs, so nothing is sent and nothing is stored.
 */
export async function consume(
  storage: ThrottlerStorage,
  metrics: MetricsService,
  logger: Logger,
  bucket: Bucket,
): Promise<void> {
  let record;
  try {
    const block = bucket.blockDuration ?? bucket.ttl;
    record = await storage.increment(bucket.key, bucket.ttl, bucket.limit, block, bucket.name);
  } catch (error) {
    if (!(error instanceof ThrottleStoreUnavailableError)) throw error;
    metrics.throttled.inc({ throttler: STORE_UNAVAILABLE });
    logger.warn({ ...bucket.log, throttler: bucket.name }, 'refused: throttler store unavailable');
    throw new ApiException('service_unavailable', 'Rate limiting is unavailable; retry later', {
      headers: { 'retry-after': '5' },
      details: { throttler: bucket.name },
    });
  }
  if (!record.isBlocked) return;
  throw refuse(metrics, logger, bucket.name, record.timeToBlockExpire, bucket.log);
}

/** `429 rate_limited` with Retry-After (whole seconds, at least 1), counted and logged. */
export function refuse(
  metrics: MetricsService,
  logger: Logger,
  name: string,
  retryAfterSeconds: number,
  log: Record<string, unknown>,
): ApiException {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  metrics.throttled.inc({ throttler: name });
  logger.warn({ ...log, throttler: name, retryAfterSeconds: seconds }, 'refused: rate limited');
  return new ApiException('rate_limited', 'Too many requests; retry later', {
    headers: { 'retry-after': String(seconds) },
    details: { throttler: name, retryAfterSeconds: seconds },
  });
}
