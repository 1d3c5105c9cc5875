// The run's databases: created and migrated, cloned for pgbench, seeded with pending codes; the
// delivery queue's backlog.
import { performance } from 'node:perf_hooks';
import { databases } from './lifecycle.mjs';
import { DB, DB_PG, MAX_ATTEMPTS, PG_URL, VERIFY_ROWS } from './settings.mjs';
import { psql, sh } from './shell.mjs';
import { sleep } from './util.mjs';

export function createDatabases() {
  psql('postgres', `CREATE DATABASE "${DB}"`);
  databases.push(DB);
  const env = { ...process.env, DATABASE_URL: PG_URL(DB) };
  const { ms } = sh('npm', ['run', '--silent', 'db:migrate'], {
    env,
    label: 'npm run db:migrate',
    timeout: 120_000,
  });
  psql('postgres', `CREATE DATABASE "${DB_PG}" TEMPLATE "${DB}"`);
  databases.push(DB_PG);
  return ms;
}

/** PostgreSQL's version and the settings that matter here, for the reports' notes. */
export function serverInfo() {
  return {
    version: psql(DB, 'SHOW server_version'),
    settings: psql(
      DB,
      "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('max_connections','shared_buffers','synchronous_commit','fsync','wal_level')",
    ),
  };
}

export function seedPgbenchVerifyRows(db = DB_PG) {
  psql(
    db,
    `INSERT INTO one_time_codes (id, phone, purpose, code_hash, hash_key_id, client, max_attempts, expires_at, created_at)
     SELECT gen_random_uuid(), '+23324' || lpad((8000000 + i)::text, 7, '0'), 'login',
            'q8Vx3nYp0Jt6bWc1Lr5sZk9uHd2Ge7Fa4Mi8No3Po6Q', 'k7f3a9c1', 'bench', ${MAX_ATTEMPTS},
            now() + interval '2 hours', now() - interval '1 minute'
     FROM generate_series(1, ${VERIFY_ROWS}) AS i;
     ANALYZE;
     CHECKPOINT;`,
  );
}

/** Waits (bounded) until few delivery jobs are runnable now, so a phase does not start inside the previous one's backlog. */
export async function settleQueue(maxMs) {
  const t0 = performance.now();
  let runnable = 0;
  do {
    runnable = Number(
      psql(
        DB,
        'SELECT count(*) FROM graphile_worker._private_jobs WHERE locked_at IS NULL AND run_at <= now() AND attempts < max_attempts',
        10_000,
      ),
    );
    if (runnable <= 50) break;
    await sleep(250);
  } while (performance.now() - t0 < maxMs);
  return { runnable, waitedMs: performance.now() - t0 };
}

/**
 * Waits (bounded) until no delivery job is left: graphile-worker deletes a job once it completes.
 * Returns how long that took, or undefined if `maxMs` passed first.
 */
export async function drainQueue(maxMs) {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const left = Number(
      psql(DB, "SELECT count(*) FROM graphile_worker.jobs WHERE task_identifier = 'deliver-otp'", 10_000),
    );
    if (left === 0) return performance.now() - t0;
    await sleep(100);
  }
  return undefined;
}

/** Drops every queued job (--ceiling: the jobs servers without a worker enqueued are never delivered). */
export function dropQueuedJobs() {
  psql(DB, 'DELETE FROM graphile_worker._private_jobs');
}
