// The default mode (also --quick, --split, --profile): pgbench alone on the machine, then the fake
// provider and the service, a warm-up and the scenarios; returns the measurements for report.mjs.
import { syncDeliveries } from './codes.mjs';
import { seedPgbenchVerifyRows } from './databases.mjs';
import { request } from './http.mjs';
import { load } from './load.mjs';
import { logPgbench, pgbench } from './pgbench.mjs';
import { startFake, startService, stopService } from './processes.mjs';
import { scenario } from './scenarios.mjs';
import { DB, PROFILE, PROFILE_SCENARIO, SPLIT, WARMUP_S } from './settings.mjs';
import { fmt, log } from './util.mjs';

export async function runFull() {
  // pgbench first, alone on the machine (the service is not started yet)
  const pg = PROFILE ? {} : runPgbench();

  const fake = await startFake();
  const svc = await startService(fake.port, SPLIT ? { extraEnv: { DELIVERY_WORKER_ENABLED: 'false' } } : {});
  log(`service ready in ${fmt(svc.readyMs, 0)} ms (idle RSS ${fmt(svc.idleRssMb, 0)} MB)`);
  const worker = SPLIT ? await startService(fake.port, { label: 'worker' }) : undefined;
  if (worker)
    log(
      `--split: worker process ready in ${fmt(worker.readyMs, 0)} ms (idle RSS ${fmt(worker.idleRssMb, 0)} MB)`,
    );
  const ctx = { svc, fake, estimate: {} };

  log(`warm-up: sends at saturation, ${WARMUP_S} s (not recorded)`);
  ctx.estimate.send = (
    await load({ port: svc.port, kinds: ['send'], durationS: WARMUP_S, instantProvider: true })
  ).rps;
  await syncDeliveries(fake.port, 20_000);

  const results = PROFILE ? await profiledScenario(ctx) : await allScenarios(ctx);
  const peakRss = svc.rss.peak;
  const workerPeakRss = worker?.rss.peak;
  await stopService(svc);
  if (worker) await stopService(worker);
  fake.child.kill('SIGTERM');
  return { pg, svc, results, peakRss, workerPeakRss };
}

function runPgbench() {
  seedPgbenchVerifyRows();
  const pg = {};
  pg.send = pgbench('send', ['send.sql']);
  pg.verify = pgbench('verify', ['verify.sql']);
  pg.mixed = pgbench('mixed', ['send.sql@1', 'verify.sql@1']);
  logPgbench(pg);
  return pg;
}

/** --profile[=scenario]: that scenario only (send by default, without its light run). */
async function profiledScenario(ctx) {
  const options = {
    send: [['send'], {}],
    'verify-right': [['verify-right'], { needsRight: 1 }],
    'verify-wrong': [['verify-wrong'], { needsWrong: 1 }],
    mixed: [['send', 'verify-right'], { needsRight: 0.5 }],
    // Wrong guesses at seeded pending codes, as --ceiling's verify-wrong: needs no codes from the
    // provider, so it profiles the API alone too (BENCH_SERVICE_ENV='{"DELIVERY_WORKER_ENABLED":"false"}').
    'verify-seeded': [['verify-seeded'], {}],
  }[PROFILE_SCENARIO];
  if (!options) throw new Error(`--profile=${PROFILE_SCENARIO}: no such scenario`);
  if (PROFILE_SCENARIO === 'verify-seeded') seedPgbenchVerifyRows(DB);
  return { [PROFILE_SCENARIO]: await scenario(ctx, PROFILE_SCENARIO, ...options) };
}

async function allScenarios(ctx) {
  const results = {};
  results.send = await scenario(ctx, 'send', ['send'], {
    lightRate: (out) => Math.max(1, out.sat.rps / 4),
  });
  results['verify-right'] = await scenario(ctx, 'verify-right', ['verify-right'], { needsRight: 1 });
  results['verify-wrong'] = await scenario(ctx, 'verify-wrong', ['verify-wrong'], { needsWrong: 1 });
  results.mixed = await scenario(ctx, 'mixed', ['send', 'verify-right'], { needsRight: 0.5 });
  results['send-hang'] = await sendHang(ctx, results.send);
  return results;
}

/** Sends while the provider never answers, paced at the send scenario's half and light rates. */
async function sendHang(ctx, send) {
  const { fake } = ctx;
  await request(fake.port, 'POST', '/_mode', { mode: 'hang' });
  const out = await scenario(ctx, 'send-hang', ['send'], {
    instantProvider: false,
    halfRate: send.halfTarget,
    lightRate: send.lightTarget,
  });
  const hangStats = (await request(fake.port, 'GET', '/_stats')).json;
  out.providerCalls = hangStats.hangReceived;
  await request(fake.port, 'POST', '/_mode', { mode: 'instant' });
  await request(fake.port, 'POST', '/_release');
  return out;
}
