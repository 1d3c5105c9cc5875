import { registerAs } from '@nestjs/config';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { ToInt } from './transforms.js';
import { validateEnv } from './validate-env.js';

class DatabaseEnv {
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgresql:// connection string' })
  DATABASE_URL!: string;

  @ToInt()
  @IsInt({ message: 'DATABASE_POOL_SIZE must be an integer' })
  @Min(1, { message: 'DATABASE_POOL_SIZE must be between 1 and 100' })
  @Max(100, { message: 'DATABASE_POOL_SIZE must be between 1 and 100' })
  DATABASE_POOL_SIZE = 10;

  @ToInt()
  @IsInt({ message: 'DATABASE_CONNECT_TIMEOUT_MS must be an integer' })
  @Min(100, { message: 'DATABASE_CONNECT_TIMEOUT_MS must be at least 100' })
  DATABASE_CONNECT_TIMEOUT_MS = 2000;

  @ToInt()
  @IsInt({ message: 'DATABASE_STATEMENT_TIMEOUT_MS must be an integer' })
  @Min(100, { message: 'DATABASE_STATEMENT_TIMEOUT_MS must be at least 100' })
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;
}

export const databaseConfig = registerAs('database', () => {
  const env = validateEnv(DatabaseEnv);
  return {
    url: env.DATABASE_URL,
    poolSize: env.DATABASE_POOL_SIZE,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
  };
});
export type DatabaseConfig = ReturnType<typeof databaseConfig>;
