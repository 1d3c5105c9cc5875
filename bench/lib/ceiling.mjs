// --ceiling: how much of the gap to pgbench any Node.js server on this machine leaves, how much the
// service's own request handling adds, and how much its delivery worker takes from the API. Send
// and wrong-code verify at saturation through pgbench, bench/bare-server.mjs, the service with
// DELIVERY_WORKER_ENABLED=false and the service; returns the measurements for report.mjs.
import { dropQueuedJobs, seedPgbenchVerifyRows, settleQueue } from './databases.mjs';
import { load } from './load.mjs';
import { cpuSnapshot, readProc } from './machine.mjs';
import { logPgbench, pgbench } from './pgbench.mjs';
import { startFake, startService, stopService } from './processes.mjs';
import { DB, DB_PG, SAT_S, WARMUP_S } from './settings.mjs';
import { fmt, log } from './util.mjs';

const SERVERS = [
  ['bare node:http + pg (bench/bare-server.mjs)', { script: 'bench/bare-server.mjs', label: 'bare' }],
  ['service, API only (DELIVERY_WORKER_ENABLED=false)', { extraEnv: { DELIVERY_WORKER_ENABLED: 'false' } }],
  ['service (API + delivery worker, as `npm run bench`)', { worker: true }],
];

/** Returns { pg, rows }: pgbench's send and verify, and per server [name, { send, 'verify-wrong' }]. */
export async function runCeiling() {
  seedPgbenchVerifyRows(DB_PG);
  seedPgbenchVerifyRows(DB); // the servers guess wrong codes of the same seeded rows
  const pg = { send: pgbench('send', ['send.sql']), verify: pgbench('verify', ['verify.sql']) };
  logPgbench(pg);
  const fake = await startFake();
  const rows = [];
  for (const [name, options] of SERVERS) {
    // Jobs the servers without a worker enqueued stay undelivered: drop them, so no backlog is inherited.
    dropQueuedJobs();
    const svc = await startService(fake.port, options);
    log(`${name}: ready in ${fmt(svc.readyMs, 0)} ms`);
    await load({ port: svc.port, kinds: ['send'], durationS: WARMUP_S });
    const measured = {};
    for (const [scenarioName, kinds] of [
      ['send', ['send']],
      ['verify-wrong', ['verify-seeded']],
    ]) {
      if (options.worker) await settleQueue(10_000);
      measured[scenarioName] = await saturation(svc, scenarioName, kinds);
    }
    await stopService(svc);
    rows.push([name, measured]);
  }
  fake.child.kill('SIGTERM');
  return { pg, rows };
}

/** One closed-loop run with the server's CPU and how busy the whole machine was. */
async function saturation(svc, scenarioName, kinds) {
  const cpu0 = readProc(svc.child.pid)?.cpuTicks ?? 0;
  const m0 = cpuSnapshot();
  const r = await load({ port: svc.port, kinds, durationS: SAT_S });
  const m1 = cpuSnapshot();
  r.serviceCpuPct = ((readProc(svc.child.pid)?.cpuTicks ?? 0) - cpu0) / r.elapsedS;
  r.machineBusyPct = 100 - (100 * (m1.idle - m0.idle)) / Math.max(1, m1.total - m0.total);
  log(
    `  ${scenarioName}: ${fmt(r.rps, 0)} req/s  p50 ${fmt(r.lat.p50, 2)} p99 ${fmt(r.lat.p99, 2)} ms  unexpected ${r.unexpected} errors ${r.errors}  server cpu ${fmt(r.serviceCpuPct, 0)}%  machine busy ${fmt(r.machineBusyPct, 0)}%`,
  );
  return r;
}
