import type { Logger } from '@nestjs/common';
import { DomainError } from '../common/index.js';
import type { MetricsService } from '../metrics/index.js';

/** `429 rate_limited` with Retry-After (whole seconds, at least 1), counted and logged. */
export function refuse(
  metrics: MetricsService,
  logger: Logger,
  name: string,
  retryAfterSeconds: number,
  log: Record<string, unknown>,
): DomainError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  metrics.throttled.inc({ throttler: name });
  logger.warn({ ...log, throttler: name, retryAfterSeconds: seconds }, 'refused: rate limited');
  return new DomainError('rate_limited', {
    retryAfterSeconds: seconds,
    details: { throttler: name, retryAfterSeconds: seconds },
  });
}
