import { registerAs } from '@nestjs/config';
import { IsBoolean, Matches } from 'class-validator';
import { IntRange, ToBoolean } from './transforms.js';
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

  /**
   * Whether the worker's commits (job locks and completions, delivery attempts and statuses) wait
   * for the WAL flush. The API's writes (every accepted code with its job) always do, so nothing
   * accepted is ever lost; after a crash of PostgreSQL itself the last few hundred ms of worker
   * bookkeeping may be, and a code may then be sent a second time. Measured: the flush wait was
   * half the database time of a delivery (bench/PROFILE.md).
   */
  @ToBoolean()
  @IsBoolean({ message: 'DATABASE_WORKER_SYNCHRONOUS_COMMIT must be true or false' })
  DATABASE_WORKER_SYNCHRONOUS_COMMIT = false;

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
    workerSynchronousCommit: env.DATABASE_WORKER_SYNCHRONOUS_COMMIT,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
  };
});
export type DatabaseConfig = ReturnType<typeof databaseConfig>;
