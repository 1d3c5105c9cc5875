import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import type { EmbeddedPostgres } from '../../src/embedded/embedded-postgres.js';

/** Shared with global-teardown.ts (both run in Jest's parent process). */
export const EMBEDDED_SERVER = Symbol.for('whatsapp-otp-service.test.embedded-postgres');
type WithServer = typeof globalThis & { [EMBEDDED_SERVER]?: EmbeddedPostgres };
/** Set once the run's databases exist: the e2e and medium projects both name this set-up. */
const DATABASES_READY = Symbol.for('whatsapp-otp-service.test.databases-ready');

const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Every wait of the set-up is bounded: nothing here can hang the suite. */
const CONNECT_TIMEOUT_MS = 3000;

/**
 * One fresh PostgreSQL database per test run, migrated with the project's own command
 * (`npm run db:migrate`), exactly as an operator would. Its URL reaches every test worker through
 * DATABASE_URL; a copy for the medium tier through TEST_MEDIUM_DATABASE_URL; global-teardown drops
 * both.
 *
 * The server is the one at TEST_DATABASE_ADMIN_URL (default: the machine's, 127.0.0.1:5432, as CI
 * uses); when nothing answers there, an embedded PostgreSQL (src/embedded/, data in
 * .data/test-postgres) started for the run, so `npm test` needs nothing but Node. Redis-backed
 * tests run when a Redis answers at TEST_REDIS_URL, are skipped with a printed reason otherwise,
 * and REQUIRE_REDIS=1 (CI) turns a missing Redis into a failure.
 */
export default async function globalSetup(): Promise<void> {
  // Jest runs each project's globalSetup in its parent process: the first creates both databases.
  const ready = globalThis as typeof globalThis & { [DATABASES_READY]?: boolean };
  if (ready[DATABASES_READY]) return;
  ready[DATABASES_READY] = true;
  let admin = process.env.TEST_DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_URL;
  const unreachable = await postgresUnreachable(admin);
  if (unreachable) {
    // Jest loads global set-up files through require(), without the suite's moduleNameMapper:
    // the TypeScript source is named without its extension so Jest's require hook finds it.
    const source = '../../src/embedded/embedded-postgres';
    const { startEmbeddedPostgres } = (await import(
      source
    )) as typeof import('../../src/embedded/embedded-postgres.js');
    const dir = join(process.cwd(), '.data');
    const server = await startEmbeddedPostgres({
      dataDir: join(dir, 'test-postgres'),
      passwordFile: join(dir, 'test-postgres-password'),
      ownerFile: join(dir, 'test-postgres-owner.pid'),
      // A throw-away database per run: durability buys nothing here.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
      recreateOnVersionChange: true,
    });
    (globalThis as WithServer)[EMBEDDED_SERVER] = server;
    const configured = hostOf(admin, DEFAULT_ADMIN_URL);
    admin = server.urlFor('postgres');
    process.stdout.write(
      `\ntest database: no PostgreSQL at ${configured} (${unreachable}); ` +
        `using an embedded PostgreSQL ${server.version} on 127.0.0.1:${server.port}\n`,
    );
  }
  await checkRedis();

  const name = `otp_test_${Date.now()}_${process.pid}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
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
    timeout: 120_000,
  });
  // The medium tier (test/medium) gets a copy of the migrated database, made before anything
  // connects to the original: its services share no provider_states or queue with the e2e apps.
  const medium = `${name}_medium`;
  const copier = new pg.Client({ connectionString: admin, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await copier.connect();
  await copier.query(`CREATE DATABASE "${medium}" TEMPLATE "${name}"`);
  await copier.end();
  url.pathname = `/${medium}`;
  Object.assign(process.env, { TEST_MEDIUM_DATABASE_URL: url.toString(), TEST_MEDIUM_DATABASE_NAME: medium });
}

/** Why no PostgreSQL answers at `url` (refused, timed out, unknown host), or undefined if one does. */
async function postgresUnreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A server that answers and refuses us (wrong password, no such role) is a configuration
    // error to show, not a reason to quietly use another server.
    if (
      code &&
      !['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)
    ) {
      throw error;
    }
    return code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Sets TEST_REDIS_AVAILABLE for the test files (test/helpers/redis-throttle.ts). */
export async function checkRedis(): Promise<void> {
  const url = process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
  const problem = await redisProblem(url);
  process.env.TEST_REDIS_AVAILABLE = problem ? '0' : '1';
  if (!problem) return;
  if (process.env.REQUIRE_REDIS === '1') {
    throw new Error(
      `REQUIRE_REDIS=1, but no Redis answers at ${hostOf(url, DEFAULT_REDIS_URL)} (${problem})`,
    );
  }
  process.stdout.write(
    `\nRedis-backed tests SKIPPED: no Redis at ${hostOf(url, DEFAULT_REDIS_URL)} (${problem}); ` +
      'start one (or set TEST_REDIS_URL) to run them, REQUIRE_REDIS=1 makes this an error\n',
  );
}

/** PING over a plain socket, bounded; undefined when the answer is PONG. */
function redisProblem(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const done = (problem?: string) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => done('timed out'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) =>
      done(d.toString().startsWith('+PONG') ? undefined : `answered ${d.toString().trim()}`),
    );
  });
}

/** host:port of a URL, never its password. */
function hostOf(url: string, fallback: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port}`;
  } catch {
    return new URL(fallback).host;
  }
}
