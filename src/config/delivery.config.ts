import { registerAs } from '@nestjs/config';
import { IsBoolean, IsIn, IsOptional, IsUrl } from 'class-validator';
import { IntRange, ToBoolean } from './transforms.js';
import { ConfigValidationError, validateEnv } from './validate-env.js';

class DeliveryEnv {
  /** false runs an API-only instance (another deployment runs the workers). */
  @ToBoolean()
  @IsBoolean({ message: 'DELIVERY_WORKER_ENABLED must be true or false' })
  DELIVERY_WORKER_ENABLED = true;

  /** At most DATABASE_WORKER_POOL_SIZE (default 10), or graphile-worker warns at start-up. */
  @IntRange(1, 200)
  DELIVERY_CONCURRENCY = 10;

  /** Tries per provider for retryable errors (timeouts, 5xx, 429) before the next provider. */
  @IntRange(0, 5)
  DELIVERY_RETRIES = 2;

  @IntRange(10, 10000)
  DELIVERY_RETRY_BASE_MS = 250;

  /**
   * A job whose lock was not renewed for this long belongs to a worker that died (a kill, an OOM):
   * it is unlocked so another worker delivers it. Live workers renew their jobs' locks every third
   * of this, so a delivery of any length is never taken twice while its process lives.
   */
  @IntRange(1, 3600)
  DELIVERY_LOCK_TIMEOUT_SECONDS = 15;

  /** Consecutive failures that open a provider's circuit, and how long it stays open. */
  @IntRange(1)
  DELIVERY_CIRCUIT_THRESHOLD = 5;

  @IntRange(100)
  DELIVERY_CIRCUIT_OPEN_MS = 30000;

  /**
   * Wait after a provider's rate-limit answer that names no time (no Retry-After), in seconds:
   * the provider (or, for a per-recipient limit, the code) is retried no earlier.
   */
  @IntRange(1, 3600)
  DELIVERY_RATE_LIMIT_WAIT_SECONDS = 10;

  /**
   * Tests only: URL the worker POSTs to (and waits on) when an attempt is recorded and before its
   * provider request leaves, so a process test can kill it exactly there. Refused in production.
   */
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http'] },
    { message: 'DELIVERY_TEST_FAULT_HOOK_URL must be an http URL' },
  )
  DELIVERY_TEST_FAULT_HOOK_URL?: string;

  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';
}

export const deliveryConfig = registerAs('delivery', () => {
  const env = validateEnv(DeliveryEnv);
  if (env.NODE_ENV === 'production' && env.DELIVERY_TEST_FAULT_HOOK_URL) {
    throw new ConfigValidationError(
      'Invalid configuration: DELIVERY_TEST_FAULT_HOOK_URL is a test hook and is refused when NODE_ENV=production',
    );
  }
  return {
    workerEnabled: env.DELIVERY_WORKER_ENABLED,
    concurrency: env.DELIVERY_CONCURRENCY,
    retries: env.DELIVERY_RETRIES,
    retryBaseMs: env.DELIVERY_RETRY_BASE_MS,
    lockTimeoutSeconds: env.DELIVERY_LOCK_TIMEOUT_SECONDS,
    circuitThreshold: env.DELIVERY_CIRCUIT_THRESHOLD,
    circuitOpenMs: env.DELIVERY_CIRCUIT_OPEN_MS,
    rateLimitWaitMs: env.DELIVERY_RATE_LIMIT_WAIT_SECONDS * 1000,
    testFaultHookUrl: env.DELIVERY_TEST_FAULT_HOOK_URL,
  };
});
export type DeliveryConfig = ReturnType<typeof deliveryConfig>;
