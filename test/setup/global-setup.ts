import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One fresh PostgreSQL database per test run, migrated with the project's own command
 * (`npm run db:migrate`), exactly as an operator would. Its URL reaches every test worker through
 * DATABASE_URL; global-teardown drops it.
 */
export default async function globalSetup(): Promise<void> {
  const admin = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const name = `otp_test_${Date.now()}_${process.pid}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const testEnv = JSON.parse(
    readFileSync(join(process.cwd(), 'test', 'setup', 'test-env.json'), 'utf8'),
  ) as Record<string, string>;
  Object.assign(process.env, testEnv, {
    DATABASE_URL: url.toString(),
    TEST_DATABASE_NAME: name,
    TEST_DATABASE_ADMIN_URL: admin,
  });
  execFileSync('npm', ['run', '--silent', 'db:migrate'], {
    env: process.env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
