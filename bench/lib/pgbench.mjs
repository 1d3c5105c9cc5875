// pgbench: the physical limit of the same SQL, same concurrency, same server.
import path from 'node:path';
import { CONNECTIONS, DB_PG, PG, PGBENCH_S, ROOT, VERIFY_ROWS } from './settings.mjs';
import { sh } from './shell.mjs';
import { fmt, log } from './util.mjs';

export function pgbench(label, scripts) {
  const range = Math.floor(8_000_000 / CONNECTIONS);
  const args = [
    // Prepared, as the service runs its hot statements (named prepared statements on each connection).
    ...['-h', PG.host, '-p', PG.port, '-U', PG.user, '-n', '-M', 'prepared'],
    ...['-c', String(CONNECTIONS), '-j', '2', '-T', String(PGBENCH_S)],
    ...['-D', `range=${range}`, '-D', `rows=${VERIFY_ROWS}`],
    ...scripts.flatMap((s) => ['-f', path.join(ROOT, 'bench', 'pgbench', s)]),
    DB_PG,
  ];
  log(`pgbench ${label}: pgbench ${args.join(' ')}`);
  const { out } = sh('pgbench', args, { label: `pgbench ${label}`, timeout: (PGBENCH_S + 60) * 1000 });
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
  const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
  const aborted = /aborted/.test(out);
  return { label, tps, latency, failed, aborted, command: `pgbench ${args.join(' ')}` };
}

/** Logs each pgbench result (tps, average latency, failures). */
export function logPgbench(pg) {
  for (const p of Object.values(pg))
    log(`  ${p.label}: ${fmt(p.tps, 0)} tps, latency avg ${fmt(p.latency, 2)} ms, failed ${p.failed}`);
}
