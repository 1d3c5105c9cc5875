#!/usr/bin/env node
// What one delivery costs, apart from the API (issue 18: "each delivery costs more CPU than the
// send that queued it"), measured two ways; every code must end `sent`, or the round fails.
//
// Drain (default): each round queues N codes through the API with the worker off, holds their jobs
// (locked by nobody, far from stale), starts the service with its worker on and its API idle, then
// releases the jobs: deliveries per second at the worker's full speed, the service's CPU per
// delivery, and the machine's (the service, PostgreSQL and the fake provider; this script's own
// CPU left out).
//
// Paced (--rate R): each round sends N codes at R per second to the service with its worker on
// (until every one is delivered) and then to one with it off; the difference in CPU per code is
// what a delivery costs at that steady rate, as a deployment would see it.
//
//   node bench/delivery-drain.mjs [--codes N] [--rounds R] [--rate R]   (build first: npm run build)
//
// Machine figures move ±10-30 % between runs on a shared machine; compare builds in alternating
// runs (README.md, "What one delivery costs").
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDatabases } from './lib/databases.mjs';
import { installExitHandlers } from './lib/lifecycle.mjs';
import { cpuSnapshot, readProc } from './lib/machine.mjs';
import { startFake, startService, stopService } from './lib/processes.mjs';
import { API_KEY, CONNECTIONS, DB, PG_URL } from './lib/settings.mjs';
import { fmt, log, sleep } from './lib/util.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const CODES = arg('--codes', 3000);
const ROUNDS = arg('--rounds', 3);
const RATE = arg('--rate', 0);
const TICK_US = 1e6 / 100; // /proc's clock ticks

installExitHandlers();

/**
 * N sends through the API, distinct phones and client IPs; all must be 202. CONNECTIONS at a time
 * as fast as they are answered, or with `rate`, one every 1/rate s (open loop).
 */
async function queueCodes(port, n, offset, rate = 0) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let next = 0;
  const one = (i) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({
        phone: `+23324${9_000_000 + offset + i}`,
        clientIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      });
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/otp/send',
          agent,
          headers: {
            authorization: `Bearer ${API_KEY}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 202 ? resolve() : reject(new Error(`send ${i}: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  if (rate > 0) {
    const t0 = performance.now();
    const sent = [];
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      sent.push(one(i));
    }
    await Promise.all(sent);
  } else {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < n) await one(next++);
      }),
    );
  }
  agent.destroy();
}

// Read through one connection, not psql (lib/databases.mjs's drainQueue): a psql process every
// 100 ms would add its own CPU to the machine's figure.
const db = new pg.Client({ connectionString: PG_URL(DB) });
const count = async (sql) => Number((await db.query(sql)).rows[0].n);
const queued = () =>
  count(`SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = 'deliver-otp'`);
const sentCodes = () =>
  count(`SELECT count(*) AS n FROM one_time_codes WHERE delivery_status = 'sent' AND phone LIKE '+233249%'`);

/** Waits until every delivery job has completed (graphile-worker deletes it), at most `maxMs` after `t0`. */
async function drained(t0, maxMs, what) {
  while ((await queued()) > 0) {
    if (performance.now() - t0 > maxMs)
      throw new Error(`${what}: the queue did not drain within ${maxMs / 1000} s`);
    await sleep(100);
  }
}

async function round(r, fake) {
  const api = await startService(fake.port, {
    extraEnv: { DELIVERY_WORKER_ENABLED: 'false' },
    label: 'drain-api',
  });
  await queueCodes(api.port, CODES, r * CODES);
  await stopService(api);
  // Held: a lock in the future is neither renewed by the new process nor released as stale.
  await db.query(
    `UPDATE graphile_worker._private_jobs SET locked_at = now() + interval '1 hour', locked_by = 'bench-hold'`,
  );
  const jobs = await queued();
  if (jobs !== CODES) throw new Error(`round ${r}: ${jobs} jobs queued, expected ${CODES}`);

  const svc = await startService(fake.port, { label: 'drain-worker' });
  await sleep(2000); // past start-up
  const own0 = process.cpuUsage();
  const m0 = cpuSnapshot();
  const s0 = readProc(svc.child.pid);
  const f0 = readProc(fake.child.pid);
  const t0 = performance.now();
  await db.query(`UPDATE graphile_worker._private_jobs SET locked_at = NULL, locked_by = NULL`);
  await db.query(`NOTIFY "jobs:insert"`);
  await drained(t0, 180_000, `round ${r}`);
  const seconds = (performance.now() - t0) / 1000;
  const s1 = readProc(svc.child.pid);
  const f1 = readProc(fake.child.pid);
  const m1 = cpuSnapshot();
  const own = process.cpuUsage(own0);
  await stopService(svc);

  const sent = await sentCodes();
  if (sent !== CODES * (r + 1))
    throw new Error(`round ${r}: ${sent} codes sent, expected ${CODES * (r + 1)}`);
  const machineUs = ((m1.total - m0.total - (m1.idle - m0.idle)) * TICK_US - (own.user + own.system)) / CODES;
  return {
    perSecond: CODES / seconds,
    serviceUs: ((s1.cpuTicks - s0.cpuTicks) * TICK_US) / CODES,
    fakeUs: ((f1.cpuTicks - f0.cpuTicks) * TICK_US) / CODES,
    machineUs,
  };
}

/** CPU per code of the service (and of the machine) while N codes are sent at RATE, worker on or off. */
async function pacedPhase(fake, offset, worker) {
  const svc = await startService(fake.port, {
    extraEnv: { DELIVERY_WORKER_ENABLED: String(worker) },
    label: worker ? 'paced-full' : 'paced-api',
  });
  await sleep(2000); // past start-up
  const own0 = process.cpuUsage();
  const m0 = cpuSnapshot();
  const s0 = readProc(svc.child.pid);
  const t0 = performance.now();
  await queueCodes(svc.port, CODES, offset, RATE);
  if (worker) await drained(t0, 300_000, 'paced');
  const s1 = readProc(svc.child.pid);
  const m1 = cpuSnapshot();
  const own = process.cpuUsage(own0);
  await stopService(svc);
  return {
    serviceUs: ((s1.cpuTicks - s0.cpuTicks) * TICK_US) / CODES,
    machineUs: ((m1.total - m0.total - (m1.idle - m0.idle)) * TICK_US - (own.user + own.system)) / CODES,
  };
}

async function pacedRound(r, fake) {
  const full = await pacedPhase(fake, 2 * r * CODES, true);
  const sent = await sentCodes();
  if (sent !== CODES * (r + 1))
    throw new Error(`round ${r}: ${sent} codes sent, expected ${CODES * (r + 1)}`);
  const api = await pacedPhase(fake, (2 * r + 1) * CODES, false);
  // The API-only phase's codes stay queued; they are not delivered by the next round's worker:
  // dropped here, so every round's worker delivers its own codes only.
  await db.query(`DELETE FROM graphile_worker._private_jobs`);
  return {
    fullUs: full.serviceUs,
    apiUs: api.serviceUs,
    serviceUs: full.serviceUs - api.serviceUs,
    machineUs: full.machineUs - api.machineUs,
  };
}

createDatabases();
await db.connect();
const fake = await startFake();
const rows = [];
for (let r = 0; r < ROUNDS; r++) {
  const row = RATE > 0 ? await pacedRound(r, fake) : await round(r, fake);
  rows.push(row);
  log(
    RATE > 0
      ? `round ${r + 1}/${ROUNDS} at ${RATE} codes/s: service CPU per code ${fmt(row.fullUs, 0)} µs with the worker, ${fmt(row.apiUs, 0)} µs without; per delivery: service ${fmt(row.serviceUs, 0)} µs, machine ${fmt(row.machineUs, 0)} µs`
      : `round ${r + 1}/${ROUNDS}: ${fmt(row.perSecond, 0)} deliveries/s; CPU per delivery: service ${fmt(row.serviceUs, 0)} µs, fake provider ${fmt(row.fakeUs, 0)} µs, machine ${fmt(row.machineUs, 0)} µs`,
  );
}
await db.end();
const median = (k) => {
  const v = rows.map((x) => x[k]).sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
console.log(
  RATE > 0
    ? `delivery at ${RATE} codes/s, ${CODES} codes × ${ROUNDS} rounds, medians: service CPU per code ` +
        `${fmt(median('fullUs'), 0)} µs with the worker, ${fmt(median('apiUs'), 0)} µs without; per delivery: ` +
        `service ${fmt(median('serviceUs'), 0)} µs, machine ${fmt(median('machineUs'), 0)} µs (service, PostgreSQL and the fake provider)`
    : `delivery drain, ${CODES} codes × ${ROUNDS} rounds, medians: ${fmt(median('perSecond'), 0)} deliveries/s; ` +
        `CPU per delivery: service ${fmt(median('serviceUs'), 0)} µs, machine ${fmt(median('machineUs'), 0)} µs ` +
        `(service, PostgreSQL and the fake provider; the fake alone ${fmt(median('fakeUs'), 0)} µs)`,
);
process.exit(0);
