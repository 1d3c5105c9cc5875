import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RecordedRequest } from '../fakes/index.js';

/**
 * A database of its own for one spec file, migrated with the project's command. The e2e files run
 * in parallel against the shared test database, and every app there runs a delivery worker that
 * takes jobs from the shared queue: tests that count rows, kill workers or check which fake got a
 * message need a queue and tables nobody else touches.
 */
export interface IsolatedDb {
  url: string;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export async function createIsolatedDb(label: string): Promise<IsolatedDb> {
  const admin = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const name = `${process.env.TEST_DATABASE_NAME ?? 'otp_test'}_${label}_${randomBytes(3).toString('hex')}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  try {
    await adminClient.query(`CREATE DATABASE "${name}"`);
  } finally {
    await adminClient.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const url = u.toString();
  await new Promise<void>((resolve, reject) =>
    execFile(
      'npm',
      ['run', '--silent', 'db:migrate'],
      { env: { ...process.env, DATABASE_URL: url } },
      (error, _stdout, stderr) => (error ? reject(new Error(`migrate ${name}: ${stderr}`)) : resolve()),
    ),
  );
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() can resolve while a client's connection is still closing; drop()'s DROP DATABASE …
  // WITH (FORCE) then terminates it, and a pool without an 'error' listener throws that at the suite.
  pool.on('error', () => undefined);
  return {
    url,
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async drop() {
      await pool.end();
      if (process.env.KEEP_TEST_DB === 'true') return;
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * The reconciliation query (OneTimeCodesRepository.unfinished(0) restricted to some codes): accepted
 * sends whose delivery is still `queued`. Must be empty after every fault test.
 */
export async function unfinished(db: IsolatedDb, where: { ids?: string[]; phones?: string[] }) {
  return db.query<{ id: string; phone: string; delivery_status: string }>(
    `SELECT id, phone, delivery_status FROM one_time_codes
     WHERE delivery_status = 'queued' AND (id::text = ANY($1) OR phone = ANY($2))`,
    [where.ids ?? [], where.phones ?? []],
  );
}

/** Runs the operator command `node scripts/reconcile.mjs` against a database. */
export function runReconcile(
  databaseUrl: string,
  olderThanSeconds: number,
): { status: number; lines: Record<string, unknown>[]; stderr: string } {
  try {
    const out = execFileSync(
      process.execPath,
      ['scripts/reconcile.mjs', '--older-than', String(olderThanSeconds)],
      {
        env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ).toString();
    return { status: 0, lines: parseLines(out), stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: Buffer; stderr: Buffer };
    return { status: e.status, lines: parseLines(e.stdout.toString()), stderr: e.stderr.toString() };
  }
}

function parseLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Rows in every table a request could write to. */
export async function tableCounts(db: IsolatedDb): Promise<Record<string, number>> {
  const tables = [
    'one_time_codes',
    'delivery_attempts',
    'idempotency_keys',
    'webhook_receipts',
    'whatsapp_contacts',
    'provider_states',
    'graphile_worker._private_jobs',
  ];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const exists = await db.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [table]);
    if (!exists[0]?.r) continue;
    const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    counts[table] = rows[0].n;
  }
  return counts;
}

/** The 6-digit code in a message a fake received (DNZ `message`, EnoSend `text`). */
export function codeIn(request: RecordedRequest): string | undefined {
  const json = request.json as { message?: string; text?: string } | undefined;
  return /\b(\d{4,10})\b/.exec(json?.message ?? json?.text ?? '')?.[1];
}

// The log scanner lives in log-leaks.ts (used by every app and spawned service in the suite).
export { leaksIn, type LogSecrets, STATIC_SECRETS } from './log-leaks.js';
