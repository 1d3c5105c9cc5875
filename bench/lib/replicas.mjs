// --replicas: how the API scales with 1, 2 and 4 processes on this machine (issue 18's cost model).
// Each count starts that many API-only processes of the production build (DELIVERY_WORKER_ENABLED=
// false, as the API replicas of a split deployment run), splits the load's connections evenly over
// them, and measures send and wrong-code verify at saturation: total req/s, the processes' CPU per
// request, and the whole machine's CPU per request less the load generator's (server + PostgreSQL).
import { dropQueuedJobs, seedPgbenchVerifyRows } from './databases.mjs';
import { load } from './load.mjs';
import { cpuSnapshot, machineCost, readProc } from './machine.mjs';
import { startFake, startService, stopService } from './processes.mjs';
import { CONNECTIONS, DB, SAT_S, WARMUP_S } from './settings.mjs';
import { fmt, log } from './util.mjs';

export const REPLICA_COUNTS = [1, 2, 4];

/** Returns [{ replicas, send, 'verify-wrong' }] with each scenario's totals. */
export async function runReplicas() {
  seedPgbenchVerifyRows(DB);
  const fake = await startFake();
  const out = [];
  for (const replicas of REPLICA_COUNTS) {
    dropQueuedJobs();
    const services = [];
    for (let i = 0; i < replicas; i++) {
      services.push(
        await startService(fake.port, {
          extraEnv: { DELIVERY_WORKER_ENABLED: 'false' },
          label: `api-${replicas}-${i}`,
        }),
      );
    }
    log(`${replicas} API replica(s): ready in ${services.map((s) => fmt(s.readyMs, 0)).join(', ')} ms`);
    await spread(services, ['send'], WARMUP_S);
    const measured = { replicas };
    for (const [name, kinds] of [
      ['send', ['send']],
      ['verify-wrong', ['verify-seeded']],
    ]) {
      measured[name] = await measure(services, kinds);
      const m = measured[name];
      log(
        `  ${name}: ${fmt(m.rps, 0)} req/s  p99 ${fmt(m.p99, 1)} ms  API ${fmt(m.cpuUsPerReq, 0)} µs/req, machine less load generator ${fmt(m.serverAndDbUsPerReq, 0)} µs/req, machine busy ${fmt(m.machineBusyPct, 0)}%`,
      );
    }
    for (const svc of services) await stopService(svc);
    out.push(measured);
  }
  fake.child.kill('SIGTERM');
  return out;
}

/** The connections split evenly over the replicas, all at once; summed. */
async function spread(services, kinds, durationS) {
  const per = Math.max(1, Math.floor(CONNECTIONS / services.length));
  return Promise.all(services.map((svc) => load({ port: svc.port, kinds, durationS, connections: per })));
}

async function measure(services, kinds) {
  const cpu0 = services.map((svc) => readProc(svc.child.pid)?.cpuTicks ?? 0);
  const m0 = cpuSnapshot();
  const own0 = process.cpuUsage();
  const runs = await spread(services, kinds, SAT_S);
  const m1 = cpuSnapshot();
  const own = process.cpuUsage(own0);
  const elapsedS = Math.max(...runs.map((r) => r.elapsedS));
  const rps = runs.reduce((a, r) => a + r.rps, 0);
  const apiTicks = services.reduce((a, svc, i) => a + (readProc(svc.child.pid)?.cpuTicks ?? 0) - cpu0[i], 0);
  const cost = machineCost(m0, m1, own, { rps, elapsedS });
  return {
    rps,
    // Each replica's load run summarises its own latencies: the slowest replica's p99 is reported.
    p99: Math.max(...runs.map((r) => r.lat.p99)),
    errors: runs.reduce((a, r) => a + r.errors + r.unexpected, 0),
    cpuUsPerReq: ((apiTicks / 100) * 1e6) / Math.max(1, rps * elapsedS),
    serverAndDbUsPerReq: cost.machineCpuUsPerReq - cost.loadGenCpuUsPerReq,
    machineBusyPct: 100 - (100 * (m1.idle - m0.idle)) / Math.max(1, m1.total - m0.total),
  };
}
