import { registerAs } from '@nestjs/config';
import { IsBoolean } from 'class-validator';
import { IntRange, ToBoolean } from './transforms.js';
import { validateEnv } from './validate-env.js';

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
   * A job locked longer than this belongs to a worker that died (a kill, an OOM): it is unlocked
   * so another worker delivers it. Must exceed the longest a delivery can take.
   */
  @IntRange(1, 3600)
  DELIVERY_LOCK_TIMEOUT_SECONDS = 120;

  /** Consecutive failures that open a provider's circuit, and how long it stays open. */
  @IntRange(1)
  DELIVERY_CIRCUIT_THRESHOLD = 5;

  @IntRange(100)
  DELIVERY_CIRCUIT_OPEN_MS = 30000;
}

export const deliveryConfig = registerAs('delivery', () => {
  const env = validateEnv(DeliveryEnv);
  return {
    workerEnabled: env.DELIVERY_WORKER_ENABLED,
    concurrency: env.DELIVERY_CONCURRENCY,
    retries: env.DELIVERY_RETRIES,
    retryBaseMs: env.DELIVERY_RETRY_BASE_MS,
    lockTimeoutSeconds: env.DELIVERY_LOCK_TIMEOUT_SECONDS,
    circuitThreshold: env.DELIVERY_CIRCUIT_THRESHOLD,
    circuitOpenMs: env.DELIVERY_CIRCUIT_OPEN_MS,
  };
});
export type DeliveryConfig = ReturnType<typeof deliveryConfig>;
