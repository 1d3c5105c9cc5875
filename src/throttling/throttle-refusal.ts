import type { Logger } from '@nestjs/common';
import { ApiException } from '../common/index.js';
import type { MetricsService } from '../metrics/index.js';

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
