import { registerAs } from '@nestjs/config';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { ToBoolean, ToInt } from './transforms.js';
import { validateEnv } from './validate-env.js';

class DeliveryEnv {
  /** false runs an API-only instance (another deployment runs the workers). */
  @ToBoolean()
  @IsBoolean({ message: 'DELIVERY_WORKER_ENABLED must be true or false' })
  DELIVERY_WORKER_ENABLED = true;

  @ToInt()
  @IsInt({ message: 'DELIVERY_CONCURRENCY must be an integer' })
  @Min(1, { message: 'DELIVERY_CONCURRENCY must be between 1 and 200' })
  @Max(200, { message: 'DELIVERY_CONCURRENCY must be between 1 and 200' })
  DELIVERY_CONCURRENCY = 20;

  /** Tries per provider for retryable errors (timeouts, 5xx, 429) before the next provider. */
  @ToInt()
  @IsInt({ message: 'DELIVERY_RETRIES must be an integer' })
  @Min(0, { message: 'DELIVERY_RETRIES must be between 0 and 5' })
  @Max(5, { message: 'DELIVERY_RETRIES must be between 0 and 5' })
  DELIVERY_RETRIES = 2;

  @ToInt()
  @IsInt({ message: 'DELIVERY_RETRY_BASE_MS must be an integer' })
  @Min(10, { message: 'DELIVERY_RETRY_BASE_MS must be between 10 and 10000' })
  @Max(10000, { message: 'DELIVERY_RETRY_BASE_MS must be between 10 and 10000' })
  DELIVERY_RETRY_BASE_MS = 250;

  /**
   * A job locked longer than this belongs to a worker that died (a kill, an OOM): it is unlocked
   * so another worker delivers it. Must exceed the longest a delivery can take.
   */
  @ToInt()
  @IsInt({ message: 'DELIVERY_LOCK_TIMEOUT_SECONDS must be an integer' })
  @Min(1, { message: 'DELIVERY_LOCK_TIMEOUT_SECONDS must be between 1 and 3600' })
  @Max(3600, { message: 'DELIVERY_LOCK_TIMEOUT_SECONDS must be between 1 and 3600' })
  DELIVERY_LOCK_TIMEOUT_SECONDS = 120;

  /** Consecutive failures that open a provider's circuit, and how long it stays open. */
  @ToInt()
  @IsInt({ message: 'DELIVERY_CIRCUIT_THRESHOLD must be an integer' })
  @Min(1, { message: 'DELIVERY_CIRCUIT_THRESHOLD must be at least 1' })
  DELIVERY_CIRCUIT_THRESHOLD = 5;

  @ToInt()
  @IsInt({ message: 'DELIVERY_CIRCUIT_OPEN_MS must be an integer' })
  @Min(100, { message: 'DELIVERY_CIRCUIT_OPEN_MS must be at least 100' })
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
