#!/usr/bin/env node
// Reconciliation: lists accepted sends (202) whose delivery never finished — still `queued` —
// created more than N seconds ago (default 60) and within the last 24 h, one JSON line each on
// stdout. Exit code 0 when there are none, 1 when there are some, 2 on a usage or database error.
// The same query as OneTimeCodesRepository.unfinished(); the reliability tests run this script.
//
//   DATABASE_URL=postgresql://… node scripts/reconcile.mjs [--older-than 60]
import 'dotenv/config';
import pg from 'pg';

function usage(message) {
  process.stderr.write(`${message}\nusage: node scripts/reconcile.mjs [--older-than SECONDS]\n`);
  process.exit(2);
}

let olderThan = 60;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split('=', 2);
  if (flag === '--older-than') {
    const value = inline ?? args[++i];
    if (!/^\d+$/.test(value ?? '')) usage('--older-than needs a whole number of seconds');
    olderThan = Number(value);
  } else if (flag === '--help' || flag === '-h') {
    usage('Lists accepted sends with no finished delivery.');
  } else {
    usage(`unknown argument: ${args[i]}`);
  }
}
if (!process.env.DATABASE_URL) usage('DATABASE_URL is not set');

const client = new pg.Client({
  connectionString: process.env.DATABASE_URL,
  connectionTimeoutMillis: 5000,
  statement_timeout: 10000,
  application_name: 'otp-reconcile',
});
try {
  await client.connect();
  const { rows } = await client.query(
    `SELECT c.id, c.client, c.purpose, c.created_at AS "createdAt", c.expires_at AS "expiresAt",
            (SELECT count(*)::int FROM delivery_attempts a WHERE a.code_id = c.id) AS attempts,
            EXISTS (SELECT 1 FROM graphile_worker._private_jobs j WHERE j.key = c.id::text) AS "jobQueued"
     FROM one_time_codes c
     WHERE c.delivery_status = 'queued'
       AND c.created_at < now() - make_interval(secs => $1)
       AND c.created_at > now() - interval '24 hours'
     ORDER BY c.created_at LIMIT 10000`,
    [olderThan],
  );
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
  process.stderr.write(
    `${rows.length} accepted send(s) older than ${olderThan} s with no finished delivery\n`,
  );
  process.exitCode = rows.length > 0 ? 1 : 0;
} catch (error) {
  process.stderr.write(`reconcile failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
} finally {
  await client.end().catch(() => undefined);
}
