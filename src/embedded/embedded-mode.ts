// Embedded development mode (docs/api.md A5, Decision 5): with no DATABASE_URL and NODE_ENV not
// production, `npm start` runs the whole service on a PostgreSQL server started here as a child
// process, with its data and generated secrets under .data/ (git-ignored, kept across restarts).
// main.ts loads this file through a dynamic import in that mode only; it is not in the bundle.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { readOrCreateSecret, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

export const EMBEDDED_DATABASE = 'whatsapp_otp';
const MIGRATE_TIMEOUT_MS = 120_000;

export interface EmbeddedMode {
  /** For the start-up line: where the data lives and which server runs it. */
  description: string;
  stop(): Promise<void>;
  stopSync(): void;
}

/**
 * Starts the embedded server, migrates it when its migrations are behind, and fills in the
 * environment the service needs: DATABASE_URL, and (only when unset) CLIENT_API_KEYS with a
 * development key, OTP_HASH_SECRET and OTP_PROVIDERS=console. Prints the banner on stdout.
 */
export async function startEmbeddedMode(root = process.cwd()): Promise<EmbeddedMode> {
  const dataDir = path.join(root, '.data');
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'postgres'),
    passwordFile: path.join(dataDir, 'postgres-password'),
    ownerFile: path.join(dataDir, 'postgres-owner.pid'),
  });
  try {
    await server.ensureDatabase(EMBEDDED_DATABASE);
    const url = server.urlFor(EMBEDDED_DATABASE);
    // A copy for tools run by hand (`DATABASE_URL=$(cat .data/database-url) npm run db:studio`).
    fs.writeFileSync(path.join(dataDir, 'database-url'), `${url}\n`, { mode: 0o600 });
    if (await migrationsPending(url, root)) await migrate(url, root);
    process.env.DATABASE_URL = url;
  } catch (error) {
    await server.stop();
    throw error;
  }

  const developmentKey = process.env.CLIENT_API_KEYS
    ? undefined
    : readOrCreateSecret(
        path.join(dataDir, 'development-key'),
        () => `dev_${randomBytes(24).toString('base64url')}`,
      );
  if (developmentKey) process.env.CLIENT_API_KEYS = `development:${developmentKey}`;
  process.env.OTP_HASH_SECRET ||= readOrCreateSecret(path.join(dataDir, 'otp-hash-secret'), () =>
    randomBytes(48).toString('base64url'),
  );
  process.env.OTP_PROVIDERS ||= 'console';
  printBanner(server, developmentKey);
  return {
    description: `embedded PostgreSQL ${server.version} on 127.0.0.1:${server.port}, data in .data/postgres`,
    stop: () => server.stop(),
    stopSync: () => server.stopSync(),
  };
}

export const BANNER_FIRST_LINE = '=== whatsapp-otp-service: embedded development mode ===';
export const BANNER_LAST_LINE = '=== (development only: set DATABASE_URL to use your own PostgreSQL) ===';

/**
 * The only place a key is ever printed (Decision 5): on stdout, outside the logger, once per start.
 * The suite's log scan exempts exactly this block (test/helpers/log-leaks.ts).
 */
function printBanner(server: EmbeddedPostgres, developmentKey: string | undefined): void {
  const lines = [
    BANNER_FIRST_LINE,
    `database:  PostgreSQL ${server.version}, a child process of this service; data in .data/postgres`,
    `provider:  ${process.env.OTP_PROVIDERS} (codes are printed on this terminal's stderr)`,
    developmentKey
      ? `api key:   ${developmentKey}   (kept in .data/development-key; send it as "Authorization: Bearer <key>")`
      : 'api key:   from CLIENT_API_KEYS',
    BANNER_LAST_LINE,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Whether some migration in prisma/migrations, or the job queue's schema, is not applied yet. */
async function migrationsPending(url: string, root: string): Promise<boolean> {
  const dir = path.join(root, 'prisma', 'migrations');
  const wanted = fs.readdirSync(dir).filter((name) => fs.statSync(path.join(dir, name)).isDirectory());
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const applied = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const queue = await client.query<{ ok: boolean }>(
      "SELECT to_regclass('graphile_worker.migrations') IS NOT NULL AS ok",
    );
    const done = new Set(applied.rows.map((r) => r.migration_name));
    return !queue.rows[0].ok || wanted.some((name) => !done.has(name));
  } catch {
    return true; // no _prisma_migrations table yet: a new database
  } finally {
    await client.end();
  }
}

/** The project's own migration command, `npm run db:migrate`, against the embedded database. */
async function migrate(url: string, root: string): Promise<void> {
  process.stdout.write('embedded PostgreSQL: applying migrations (npm run db:migrate)\n');
  const output: string[] = [];
  const child = spawn('npm', ['run', '--silent', 'db:migrate'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), MIGRATE_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('close', (c) => resolve(c));
  }).finally(() => clearTimeout(timer));
  if (code !== 0) {
    throw new Error(`npm run db:migrate failed (exit ${code}):\n${output.join('').trim().slice(-2000)}`);
  }
}
