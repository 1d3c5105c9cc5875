// A scenario: one request mix at saturation, at half of the measured rate (paced) and, when asked,
// at a light load, with the service's RSS, CPU and heap and the machine's idle share per phase,
// and acceptance → provider delivery times for sends.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { accepted, delivered, rightPool, syncDeliveries } from './codes.mjs';
import { settleQueue } from './databases.mjs';
import { load, summarise } from './load.mjs';
import { machineIdle, readProc } from './machine.mjs';
import { heapOf } from './processes.mjs';
import { HALF_S, MAX_ATTEMPTS, SAT_S } from './settings.mjs';
import { fmt, log } from './util.mjs';

/**
 * Runs scenario `name` (`kinds`: the request sequence per connection) against `ctx.svc`.
 * `needsRight`/`needsWrong`: codes needed per request (topped up by unrecorded sends);
 * `halfRate`/`lightRate`: the paced rates (default half of the saturation rate; no light run).
 */
export async function scenario(
  ctx,
  name,
  kinds,
  { instantProvider = true, needsRight = 0, needsWrong = 0, halfRate, lightRate } = {},
) {
  const { fake } = ctx;
  const out = { name, kinds };
  const spec = { name, kinds, instantProvider, needsRight, needsWrong };
  const phase = (label, durationS, rate, extra) => measurePhase(ctx, spec, label, durationS, rate, extra);
  out.sat = await phase('saturation', SAT_S);
  ctx.estimate[name] = out.sat.rps;
  if (instantProvider && kinds.includes('send')) out.satDelivery = await syncDeliveries(fake.port, 20_000);
  // `halfRate` compares two scenarios at the same offered load (send-hang at the send's half rate).
  const half = halfRate ?? Math.max(1, out.sat.rps / 2);
  const halfAccepted = [];
  out.half = await phase('half', HALF_S, half, { onAccepted: (d) => halfAccepted.push(d) });
  out.halfTarget = half;
  if (instantProvider && kinds.includes('send')) {
    out.halfDelivery = await syncDeliveries(fake.port, 20_000);
    out.delivery = deliveryOf(halfAccepted);
  }
  const light = typeof lightRate === 'function' ? lightRate(out) : lightRate;
  if (light) {
    // A light load (a quarter of the send saturation), where the machine has room to spare: what
    // the provider does should not show in the API's latency at all.
    if (!instantProvider) await settleQueue(10_000);
    out.light = await phase('light', HALF_S, light);
    out.lightTarget = light;
    if (instantProvider) await syncDeliveries(fake.port, 20_000);
  }
  return out;
}

/** One phase of a scenario: codes topped up, the queue settled, then one load run with its measurements. */
async function measurePhase(
  ctx,
  { name, kinds, instantProvider, needsRight, needsWrong },
  label,
  durationS,
  rate,
  extra,
) {
  const { svc } = ctx;
  const r0 = {};
  // Until a scenario has run once, guess its rate from the sends (verifies are usually faster).
  const expectRate = rate ?? ctx.estimate[name] ?? 1.5 * (ctx.estimate.send ?? 0);
  await ensureCodes(ctx, label, needsRight * expectRate * durationS, needsWrong * expectRate * durationS);
  if (!instantProvider) r0.settle = await settleQueue(10_000);
  const cpu0 = readProc(svc.child.pid)?.cpuTicks ?? 0;
  svc.rss.phasePeak = 0;
  const idle = await machineIdle(500);
  log(`${name} @ ${label}${rate ? ` (${rate.toFixed(0)} req/s paced)` : ''}, ${durationS} s …`);
  const startedAt = performance.now();
  const r = Object.assign(
    r0,
    await load({ port: svc.port, kinds, durationS, rate, instantProvider, ...extra }),
  );
  // The phase's span in the service's life (ms since spawn): --profile summarises the saturation phase's samples.
  r.window = [startedAt - svc.spawnedAt, performance.now() - svc.spawnedAt];
  const cpu1 = readProc(svc.child.pid)?.cpuTicks ?? 0;
  r.peakRssMb = svc.rss.phasePeak;
  r.heap = await heapOf(svc.port);
  r.serviceCpuPct = (cpu1 - cpu0) / r.elapsedS; // ticks are 1/100 s → % of one core
  r.machineIdleBeforePct = idle;
  r.load1 = loadavg()[0];
  log(
    `  ${fmt(r.rps, 0)} req/s  p50 ${fmt(r.lat.p50, 2)} p99 ${fmt(r.lat.p99, 2)} max ${fmt(r.lat.max, 1)} ms` +
      `  unexpected ${r.unexpected} errors ${r.errors}  rss ${fmt(r.peakRssMb, 0)} MB  service cpu ${fmt(r.serviceCpuPct, 0)}%` +
      (r.heap ? `  heap used/total ${r.heap.used}/${r.heap.total} MB, external ${r.heap.external} MB` : '') +
      (r.exhausted ? `  (codes ran out after ${fmt(r.elapsedS, 1)} s)` : ''),
  );
  return r;
}

/** Acceptance → provider times of the given sends (digits), as the fake provider recorded them. */
export function deliveryOf(sends) {
  const lats = [];
  let missing = 0;
  for (const d of sends) {
    const got = delivered.get(d);
    if (got) lats.push(got.t - accepted.get(d));
    else missing++;
  }
  return { accepted: sends.length, atProvider: lats.length, missing, ...summarise(lats) };
}

/** Makes sure enough codes wait in the pools (sends at saturation, bounded), then syncs. */
async function ensureCodes(ctx, label, right, wrong) {
  if (right <= 0 && wrong <= 0) return;
  const need = Math.ceil(right * 1.15 + (wrong * 1.15) / (MAX_ATTEMPTS - 1)) + 100;
  if (rightPool.length >= need) return;
  const rate = ctx.estimate.send ?? 500;
  const missing = need - rightPool.length;
  const seconds = Math.min(10, Math.max(1, Math.ceil((missing * 1.2) / rate)));
  log(`  seeding codes for ${label}: ~${missing} more needed → ${seconds} s of sends`);
  await load({ port: ctx.svc.port, kinds: ['send'], durationS: seconds, instantProvider: true });
  await syncDeliveries(ctx.fake.port, 20_000);
}
