// --ceiling: how much of the gap to pgbench any Node.js server on this machine leaves, how much the
// service's own request handling adds, and how much its delivery worker takes from the API. Send
// and wrong-code verify at saturation through pgbench, bench/bare-server.mjs, the service with
// DELIVERY_WORKER_ENABLED=false and the service; returns the measurements for report.mjs.
import { syncDeliveries } from './codes.mjs';
import { drainQueue, dropQueuedJobs, seedPgbenchVerifyRows, settleQueue } from './databases.mjs';
import { load } from './load.mjs';
import { cpuSnapshot, machineCost, readProc } from './machine.mjs';
import { logPgbench, pgbench } from './pgbench.mjs';
import { startFake, startService, stopService } from './processes.mjs';
import { deliveryOf } from './scenarios.mjs';
import { DB, DB_PG, EQUAL_SHARE, HALF_S, SAT_S, WARMUP_S } from './settings.mjs';
import { fmt, log } from './util.mjs';

/** The two scenarios every server runs: [name in the report, request kinds]. */
const SCENARIOS = [
  ['send', ['send']],
  ['verify-wrong', ['verify-seeded']],
];

const SERVERS = [
  ['bare node:http + pg (bench/bare-server.mjs)', { script: 'bench/bare-server.mjs', label: 'bare' }],
  ['service, API only (DELIVERY_WORKER_ENABLED=false)', { extraEnv: { DELIVERY_WORKER_ENABLED: 'false' } }],
  ['service (API + delivery worker, as `npm run bench`)', { worker: true }],
];

/**
 * Returns { pg, rows }: pgbench's send and verify, and per server [name, { send, 'verify-wrong' }]
 * with its readiness time and peak RSS; the full service also runs both at half of its saturation
 * rate (issue 18's p99 targets), with the sends' acceptance → provider times.
 */
export async function runCeiling() {
  seedPgbenchVerifyRows(DB_PG);
  seedPgbenchVerifyRows(DB); // the servers guess wrong codes of the same seeded rows
  const pg = { send: pgbench('send', ['send.sql']), verify: pgbench('verify', ['verify.sql']) };
  logPgbench(pg);
  const fake = await startFake();
  const rows = [];
  // The bare server's and the API's CPU per request at one paced rate as well: at saturation each
  // runs at its own rate, and a write that wakes PostgreSQL costs less the busier it is.
  const equalRates = {};
  for (const [name, options] of SERVERS) {
    // Jobs the servers without a worker enqueued stay undelivered: drop them, so no backlog is inherited.
    dropQueuedJobs();
    const svc = await startService(fake.port, options);
    log(`${name}: ready in ${fmt(svc.readyMs, 0)} ms`);
    await load({ port: svc.port, kinds: ['send'], durationS: WARMUP_S });
    const measured = {};
    for (const [scenarioName, kinds] of SCENARIOS) {
      if (options.worker) await settleQueue(10_000);
      measured[scenarioName] = await cpuRun(svc, scenarioName, kinds, {
        drain: options.worker && kinds.includes('send'),
      });
    }
    if (!options.worker) {
      for (const [scenarioName, kinds] of SCENARIOS) {
        // Set by the first server (bare), below the rate either reaches.
        equalRates[scenarioName] ??= Math.max(1, EQUAL_SHARE * measured[scenarioName].rps);
        measured[`${scenarioName}-equal`] = await cpuRun(svc, scenarioName, kinds, {
          rate: equalRates[scenarioName],
          durationS: HALF_S,
        });
      }
    }
    if (options.worker) {
      for (const [scenarioName, kinds] of SCENARIOS) {
        await settleQueue(10_000);
        measured[`${scenarioName}-half`] = await half(
          svc,
          fake.port,
          scenarioName,
          kinds,
          measured[scenarioName].rps,
        );
      }
    }
    measured.readyMs = svc.readyMs;
    measured.idleRssMb = svc.idleRssMb;
    measured.peakRssMb = svc.rss.peak;
    await stopService(svc);
    rows.push([name, measured]);
  }
  fake.child.kill('SIGTERM');
  return { pg, rows };
}

/** `kinds` paced at half of `satRps` (the full service's p99 targets); sends' provider times too. */
async function half(svc, fakePort, scenarioName, kinds, satRps) {
  const rate = Math.max(1, satRps / 2);
  const sends = [];
  const r = await load({
    port: svc.port,
    kinds,
    durationS: HALF_S,
    rate,
    instantProvider: true,
    onAccepted: (digits) => sends.push(digits),
  });
  r.rate = rate;
  if (kinds.includes('send')) {
    await syncDeliveries(fakePort, 20_000);
    r.delivery = deliveryOf(sends);
  }
  log(
    `  ${scenarioName} @ half (${fmt(rate, 0)} req/s paced): p50 ${fmt(r.lat.p50, 2)} p99 ${fmt(r.lat.p99, 2)} ms  unexpected ${r.unexpected} errors ${r.errors}` +
      (r.delivery
        ? `  at the provider: ${r.delivery.atProvider}/${r.delivery.accepted}, max ${fmt(r.delivery.max, 0)} ms`
        : ''),
  );
  return r;
}

/**
 * One closed-loop run (or, given `rate`, one paced run) with the server's CPU (% of one core and µs
 * per request) and how busy the machine was. With `drain` (sends to a server with a worker), also
 * the sustained figures: the run's sends over the time until the last of them was delivered, and
 * the CPU until then. At saturation the worker falls behind, and the deliveries still queued when
 * the run ends are not in the run's own CPU.
 */
async function cpuRun(svc, scenarioName, kinds, { rate, durationS = SAT_S, drain = false } = {}) {
  const cpu0 = readProc(svc.child.pid)?.cpuTicks ?? 0;
  const m0 = cpuSnapshot();
  const own0 = process.cpuUsage();
  const r = await load({ port: svc.port, kinds, durationS, rate });
  r.rate = rate;
  const m1 = cpuSnapshot();
  Object.assign(r, machineCost(m0, m1, process.cpuUsage(own0), r));
  r.serviceCpuPct = ((readProc(svc.child.pid)?.cpuTicks ?? 0) - cpu0) / r.elapsedS;
  // CPU per request: stable across noisy runs in a way req/s is not (issue 18's unit).
  r.cpuUsPerReq = ((r.serviceCpuPct / 100) * 1e6) / Math.max(1e-9, r.rps);
  r.machineBusyPct = 100 - (100 * (m1.idle - m0.idle)) / Math.max(1, m1.total - m0.total);
  if (drain) {
    const drainMs = await drainQueue(120_000);
    if (drainMs !== undefined) {
      const requests = r.rps * r.elapsedS;
      const ticks = (readProc(svc.child.pid)?.cpuTicks ?? 0) - cpu0;
      r.sustained = {
        drainS: drainMs / 1000,
        rps: requests / (r.elapsedS + drainMs / 1000),
        cpuUsPerReq: (ticks * 1e4) / Math.max(1, requests), // /proc ticks are 1/100 s
      };
      log(
        `  ${scenarioName}, sustained: the last delivery ${fmt(r.sustained.drainS, 1)} s after the run: ${fmt(r.sustained.rps, 0)} req/s, server cpu ${fmt(r.sustained.cpuUsPerReq, 0)} µs/req`,
      );
    }
  }
  log(
    `  ${scenarioName}${rate ? ` paced at ${fmt(rate, 0)} req/s` : ''}: ${fmt(r.rps, 0)} req/s  p50 ${fmt(r.lat.p50, 2)} p99 ${fmt(r.lat.p99, 2)} ms  unexpected ${r.unexpected} errors ${r.errors}  server cpu ${fmt(r.serviceCpuPct, 0)}% (${fmt(r.cpuUsPerReq, 0)} µs/req)  machine busy ${fmt(r.machineBusyPct, 0)}%`,
  );
  return r;
}
