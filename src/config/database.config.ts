import { registerAs } from '@nestjs/config';
import { Matches } from 'class-validator';
import { IntRange } from './transforms.js';
import { validateEnv } from './validate-env.js';

class DatabaseEnv {
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgresql:// connection string' })
  DATABASE_URL!: string;

  @IntRange(1, 100)
  DATABASE_POOL_SIZE = 10;

  /**
   * Connections of the delivery worker (the job queue and delivery bookkeeping), apart from the
   * API's, so a delivery backlog never makes API requests wait for a connection.
   */
  @IntRange(2, 100)
  DATABASE_WORKER_POOL_SIZE = 10;

  @IntRange(100)
  DATABASE_CONNECT_TIMEOUT_MS = 2000;

  @IntRange(100)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;
}

export const databaseConfig = registerAs('database', () => {
  const env = validateEnv(DatabaseEnv);
  return {
    url: env.DATABASE_URL,
    poolSize: env.DATABASE_POOL_SIZE,
    workerPoolSize: env.DATABASE_WORKER_POOL_SIZE,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
  };
});
export type DatabaseConfig = ReturnType<typeof databaseConfig>;
