// pgbench: the physical limit of the same SQL, same concurrency, same server.
import path from 'node:path';
import { CONNECTIONS, DB_PG, PG, PGBENCH_S, ROOT, VERIFY_ROWS } from './settings.mjs';
import { sh } from './shell.mjs';
import { fmt, log } from './util.mjs';

const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

/** scripts: file names under bench/pgbench/ (optionally `name@weight`), or absolute paths; db: the clone to run on. */
export function pgbench(label, scripts, db = DB_PG) {
  const range = Math.floor(8_000_000 / CONNECTIONS);
  const args = [
    // Prepared, as the service runs its hot statements (named prepared statements on each connection).
    ...['-h', PG.host, '-p', PG.port, '-U', PG.user, '-n', '-M', 'prepared'],
    ...['-c', String(CONNECTIONS), '-j', '2', '-T', String(PGBENCH_S)],
    ...['-D', `range=${range}`, '-D', `rows=${VERIFY_ROWS}`],
    ...scripts.flatMap((s) => ['-f', path.resolve(ROOT, 'bench', 'pgbench', s)]),
    db,
  ];
  const command = `PGOPTIONS='${GENERIC_PLANS}' pgbench ${args.join(' ')}`;
  log(`pgbench ${label}: ${command}`);
  // Generic plans, as the service's named statements get (pg_prepared_statements after a few runs:
  // generic_plans grows, custom_plans stays at 5). With plan_cache_mode=auto, pgbench's own forms of
  // the statements may keep custom plans instead, and then pay the planner on every transaction
  // (measured: a quarter of the verify's throughput), which measures the planner, not the SQL.
  const env = { ...process.env, PGOPTIONS: `${process.env.PGOPTIONS ?? ''} ${GENERIC_PLANS}`.trim() };
  const { out } = sh('pgbench', args, { env, label: `pgbench ${label}`, timeout: (PGBENCH_S + 60) * 1000 });
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
  const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
  const aborted = /aborted/.test(out);
  return {
    label,
    tps,
    transactions,
    latency,
    failed,
    aborted,
    command,
  };
}

/** Logs each pgbench result (tps, average latency, failures). */
export function logPgbench(pg) {
  for (const p of Object.values(pg))
    log(`  ${p.label}: ${fmt(p.tps, 0)} tps, latency avg ${fmt(p.latency, 2)} ms, failed ${p.failed}`);
}
