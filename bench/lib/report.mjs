// The reports: the results table, the issue-8 targets and the notes (stdout, RESULTS.md or
// RESULTS-split.md, .out/last-run.json), and the ceiling table (stdout, CEILING.md).
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { machine } from './machine.mjs';
import { THROTTLE_NOTE } from './processes.mjs';
import { summariseProfile } from './profile.mjs';
import {
  CONNECTIONS,
  EQUAL_SHARE,
  HALF_S,
  MAX_ATTEMPTS,
  OUT,
  PGBENCH_S,
  PROFILE,
  PROFILE_SCENARIO,
  ROOT,
  SAT_S,
  SPLIT,
  VERIFY_ROWS,
} from './settings.mjs';
import { fmt, log } from './util.mjs';

/** One scenario's row of the results table (pg: the pgbench run it is compared with, if any). */
function row(name, s, pg) {
  const r = (x) => `${fmt(x.lat.p50, 2)} / ${fmt(x.lat.p99, 2)} / ${fmt(x.lat.max, 1)}`;
  const errs = (x) => `${x.errors}/${x.unexpected}`;
  return [
    name,
    fmt(s.sat.rps, 0) + (s.sat.exhausted ? '*' : ''),
    pg ? fmt(pg.tps, 0) : '–',
    pg ? `${fmt(s.sat.rps / pg.tps, 2)}×` : '–',
    r(s.sat),
    fmt(s.half.rps, 0),
    r(s.half),
    `${errs(s.sat)}, ${errs(s.half)}`,
    fmt(Math.max(s.sat.peakRssMb, s.half.peakRssMb), 0),
    `${fmt(s.sat.serviceCpuPct, 0)}%`,
    `${fmt(s.sat.machineIdleBeforePct, 0)}%`,
  ];
}

/** A Markdown table, columns padded to their widest cell. */
function table(headers, rows) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(w[i])).join(' | ')} |`;
  return [line(headers), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * The default mode's report: printed, then written to RESULTS.md (RESULTS-split.md with --split)
 * and .out/last-run.json, or under --profile followed by the profile's summary.
 * `run`: what main() prepared ({ started, startedAt, build, migrateMs, serverSettings });
 * `measured`: what runFull() returned.
 */
export function writeResults(run, { pg, svc, results, peakRss, workerPeakRss }) {
  const { startedAt } = run;
  const tbl = resultsTable(results, pg);
  const targets = PROFILE ? [] : issue8Targets(results, pg, svc, peakRss);
  const notes = resultsNotes(run, results, workerPeakRss);
  const text = [
    '',
    tbl,
    '',
    'Latencies in ms; errors = connection errors + timeouts; unexpected = any status other than send 202, verify-right 200, verify-wrong 400 invalid_code.',
    ...(PROFILE ? [] : ['', 'Issue 8 targets:', ...targets]),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  process.stdout.write(text);

  if (PROFILE) {
    // The saturation phase's samples, in µs per request of the service's measured CPU.
    const sat = results[PROFILE_SCENARIO]?.sat;
    summariseProfile(
      svc.profDir,
      text,
      sat && {
        window: sat.window,
        usPerReq: ((sat.serviceCpuPct / 100) * 1e6) / Math.max(1e-9, sat.rps),
      },
    );
  } else {
    const raw = { startedAt, machine, pg, results, readyMs: svc.readyMs, idleRssMb: svc.idleRssMb, peakRss };
    const strip = (k, v) => (k === 'latencies' || k === 'lags' ? undefined : v);
    writeFileSync(path.join(OUT, 'last-run.json'), JSON.stringify(raw, strip, 2));
    writeFileSync(
      path.join(ROOT, 'bench', SPLIT ? 'RESULTS-split.md' : 'RESULTS.md'),
      [
        '# Benchmark results (last run)',
        '',
        `Produced by \`npm run bench${SPLIT ? ' -- --split' : ''}\` (\`node bench/run.mjs${SPLIT ? ' --split' : ''}\`) on ${startedAt}. Re-run to refresh; see bench/README.md.`,
        '',
        text,
        'pgbench commands:',
        '',
        ...Object.values(pg).map((p) => `    ${p.command}`),
        '',
      ].join('\n'),
    );
    log(`wrote bench/${SPLIT ? 'RESULTS-split.md' : 'RESULTS.md'}`);
  }
}

/** Scenario by scenario: throughput against pgbench, latencies, errors, RSS, CPU, machine idle. */
function resultsTable(results, pg) {
  const pgFor = {
    send: pg.send,
    'verify-right': pg.verify,
    'verify-wrong': pg.verify,
    mixed: pg.mixed,
    'send-hang': pg.send,
  };
  const headers = [
    'scenario',
    'sat req/s',
    'pgbench tps',
    'service÷pgbench',
    'sat p50/p99/max ms',
    'half req/s',
    'half p50/p99/max ms',
    'errors/unexpected (sat, half)',
    'peak RSS MB',
    'service CPU @sat',
    'machine idle before',
  ];
  return table(
    headers,
    Object.entries(results).map(([name, s]) => row(name, s, pgFor[name])),
  );
}

/** The issue-8 targets as a checklist ([x] met, [ ] missed, [?] not measured). */
function issue8Targets(results, pg, svc, peakRss) {
  const d = results.send?.delivery;
  const hang = results['send-hang'];
  const target = (ok, text) => `- [${ok === undefined ? '?' : ok ? 'x' : ' '}] ${text}`;
  const p50Shift = (a, b) => (b && a ? ((b - a) / a) * 100 : undefined);
  return [
    target(
      results.send.sat.rps / pg.send.tps >= 0.5,
      `send ≥ 0.5× pgbench: ${fmt(results.send.sat.rps / pg.send.tps, 2)}× (${fmt(results.send.sat.rps, 0)} / ${fmt(pg.send.tps, 0)})`,
    ),
    target(
      results['verify-right'].sat.rps / pg.verify.tps >= 0.5 &&
        results['verify-wrong'].sat.rps / pg.verify.tps >= 0.5,
      `verify ≥ 0.5× pgbench: right ${fmt(results['verify-right'].sat.rps / pg.verify.tps, 2)}×, wrong ${fmt(results['verify-wrong'].sat.rps / pg.verify.tps, 2)}× (pgbench ${fmt(pg.verify.tps, 0)})`,
    ),
    target(
      Object.values(results).every((s) => s.half.lat.p99 <= 20),
      `p99 at half saturation ≤ 20 ms: ${Object.entries(results)
        .map(([n, s]) => `${n} ${fmt(s.half.lat.p99, 1)}`)
        .join(', ')}`,
    ),
    target(
      Math.abs(p50Shift(results.send.half.lat.p50, hang.half.lat.p50)) < 10,
      `hanging provider moves send p50 < 10 % (both at the send scenario's half rate, ${fmt(results.send.halfTarget, 0)} req/s): ${fmt(results.send.half.lat.p50, 2)} → ${fmt(hang.half.lat.p50, 2)} ms (${fmt(p50Shift(results.send.half.lat.p50, hang.half.lat.p50), 0)} %), at saturation ${fmt(results.send.sat.lat.p50, 2)} → ${fmt(hang.sat.lat.p50, 2)} ms (${fmt(p50Shift(results.send.sat.lat.p50, hang.sat.lat.p50), 0)} %); hang sat throughput ${fmt(hang.sat.rps, 0)} vs ${fmt(results.send.sat.rps, 0)} req/s; ${hang.providerCalls} provider calls left hanging`,
    ),
    target(
      results.send.light && hang.light
        ? Math.abs(p50Shift(results.send.light.lat.p50, hang.light.lat.p50)) < 10
        : undefined,
      results.send.light && hang.light
        ? `hanging provider moves send p50 < 10 % at a light load (a quarter of the send saturation, ${fmt(results.send.lightTarget, 0)} req/s): ${fmt(results.send.light.lat.p50, 2)} → ${fmt(hang.light.lat.p50, 2)} ms (${fmt(p50Shift(results.send.light.lat.p50, hang.light.lat.p50), 0)} %); p99 ${fmt(results.send.light.lat.p99, 2)} → ${fmt(hang.light.lat.p99, 2)} ms`
        : 'hanging provider at a light load: not measured',
    ),
    target(
      peakRss <= 250,
      `peak RSS ≤ 250 MB: ${fmt(peakRss, 0)} MB (idle after ready ${fmt(svc.idleRssMb, 0)} MB)`,
    ),
    target(svc.readyMs <= 2000, `ready ≤ 2 s: ${fmt(svc.readyMs, 0)} ms from spawn to /health/ready = 200`),
    target(
      d.missing === 0 && d.p99 <= 1000,
      `every accepted send at the provider within 1 s (send at half, ${fmt(results.send.half.rps, 0)} req/s): ${d.atProvider}/${d.accepted} received, acceptance→provider p50 ${fmt(d.p50, 1)} / p99 ${fmt(d.p99, 1)} / max ${fmt(d.max, 1)} ms`,
    ),
  ];
}

/** How the run was made: machine, PostgreSQL, load, service settings, drain, idle share, wall time. */
function resultsNotes({ started, migrateMs, build, serverSettings }, results, workerPeakRss) {
  const satDrain = results.send?.satDelivery ?? { waitedMs: 0, backlog: 0 };
  return [
    `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memGb} GB; Node ${machine.node}; ${machine.psql}; server ${machine.server}; ${machine.pgbench}.`,
    `PostgreSQL settings: ${serverSettings}.`,
    `Load: ${CONNECTIONS} connections, autocannon 8 (programmatic, distinct +23324xxxxxxx phones via setupRequest), load generator in this process, service in another; saturation runs ${SAT_S} s (closed loop), half runs ${HALF_S} s paced evenly at half the measured saturation rate; latency = autocannon's per-request response time; pgbench -c ${CONNECTIONS} -j 2 -T ${PGBENCH_S} -M prepared with generic plans (as the service's statements get) on a clone of the same migrated database, run before the service starts.`,
    `Service: node dist/main.bundle.mjs, NODE_ENV=production, LOG_LEVEL=warn, default pools (DATABASE_POOL_SIZE 10, DELIVERY_CONCURRENCY 20), provider DNZ → bench/fake-dnz.mjs. ${THROTTLE_NOTE}.`,
    ...(SPLIT
      ? [
          `--split: the load goes to an API process (DELIVERY_WORKER_ENABLED=false); a second process of the same build (worker enabled, no traffic) delivers. RSS and CPU in the table are the API process's; the worker process peaked at ${fmt(workerPeakRss, 0)} MB RSS.`,
        ]
      : []),
    ...(process.env.BENCH_NODE_ARGS ? [`Node flags for the service: ${process.env.BENCH_NODE_ARGS}.`] : []),
    ...(process.env.BENCH_SERVICE_ENV
      ? [`Service environment overrides: ${process.env.BENCH_SERVICE_ENV}.`]
      : []),
    `verify-right uses codes read from the provider's messages (each verified once); verify-wrong sends code+1 (≤ ${MAX_ATTEMPTS - 1} guesses per code, so every guess runs the full SELECT + UPDATE); mixed = 1 send : 1 right-code verify per connection; send-hang = the provider accepts connections and never answers (PROVIDER_TIMEOUT_MS 5000); its half run is paced at the send scenario's half rate, so both p50s are at the same offered load. * = the run stopped early when its codes ran out.`,
    `Delivery after the send saturation run: backlog drained in ${fmt(satDrain.waitedMs / 1000, 1)} s${satDrain.drainRate ? ` (~${fmt(satDrain.drainRate, 0)} deliveries/s while draining)` : ''}, ${satDrain.backlog} still queued after the bound.`,
    `Machine was ${fmt(Math.min(...Object.values(results).flatMap((s) => [s.sat.machineIdleBeforePct, s.half.machineIdleBeforePct])), 0)}–${fmt(Math.max(...Object.values(results).flatMap((s) => [s.sat.machineIdleBeforePct, s.half.machineIdleBeforePct])), 0)} % idle just before the runs (load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at the end): other work on the machine lowers every figure.`,
    `Wall time ${fmt((performance.now() - started) / 1000, 0)} s; migrate ${fmt(migrateMs / 1000, 1)} s; ${build}.`,
  ];
}

/** The full service's send rate counted until its last delivery (cpuRun's `drain`), for the 0.6× line. */
function sustained(full, api) {
  const s = full.sustained;
  if (!s) return '; sustained: the queue did not drain within 120 s';
  return `; sustained, until the last of those sends was delivered (${fmt(s.drainS, 1)} s after the run): ${fmt(s.rps / api.rps, 2)}× (${fmt(s.rps, 0)} req/s, ${fmt(s.cpuUsPerReq, 0)} µs/req)`;
}

/** Issue 18's targets from one --ceiling run: rows are bare, API only, full service (SERVERS' order). */
function issue18Targets(rows) {
  const [[, bare], [, api], [, full]] = rows;
  const target = (ok, text) => `- [${ok ? 'x' : ' '}] ${text}`;
  const ratio = (kind) => api[kind].cpuUsPerReq / bare[kind].cpuUsPerReq;
  const equal = (kind) => {
    const [b, a] = [bare[`${kind}-equal`], api[`${kind}-equal`]];
    if (!b || !a) return '';
    return `; both paced at ${fmt(b.rate, 0)} req/s: ${fmt(a.cpuUsPerReq / b.cpuUsPerReq, 2)}× (${fmt(a.cpuUsPerReq, 0)} / ${fmt(b.cpuUsPerReq, 0)} µs)`;
  };
  const d = full['send-half'].delivery;
  const peak = Math.max(api.peakRssMb, full.peakRssMb);
  return [
    ...['send', 'verify-wrong'].map((kind) =>
      target(
        ratio(kind) <= 1.5,
        `${kind}, API only: CPU per request ≤ 1.5× the bare server's: ${fmt(ratio(kind), 2)}× (${fmt(api[kind].cpuUsPerReq, 0)} / ${fmt(bare[kind].cpuUsPerReq, 0)} µs) at saturation${equal(kind)}`,
      ),
    ),
    target(
      full.send.rps / api.send.rps >= 0.6,
      `send, full service ≥ 0.6× API only: ${fmt(full.send.rps / api.send.rps, 2)}× (${fmt(full.send.rps, 0)} / ${fmt(api.send.rps, 0)} req/s)${sustained(full.send, api.send)}`,
    ),
    target(
      full['verify-wrong-half'].lat.p99 <= 20,
      `verify p99 at half of saturation ≤ 20 ms (full service, ${fmt(full['verify-wrong-half'].rate, 0)} req/s paced): ${fmt(full['verify-wrong-half'].lat.p99, 1)} ms`,
    ),
    target(
      full['send-half'].lat.p99 <= 30,
      `send p99 at half of saturation ≤ 30 ms (full service, ${fmt(full['send-half'].rate, 0)} req/s paced): ${fmt(full['send-half'].lat.p99, 1)} ms`,
    ),
    target(
      d.missing === 0 && d.max <= 1000,
      `every accepted send at the provider within 1 s at half load: ${d.atProvider}/${d.accepted}, acceptance→provider p50 ${fmt(d.p50, 1)} / p99 ${fmt(d.p99, 1)} / max ${fmt(d.max, 1)} ms`,
    ),
    target(
      peak <= 256,
      `peak RSS ≤ 256 MB: API only ${fmt(api.peakRssMb, 0)} MB, full service ${fmt(full.peakRssMb, 0)} MB (idle after ready ${fmt(full.idleRssMb, 0)} MB)`,
    ),
    target(
      Math.max(api.readyMs, full.readyMs) <= 1500,
      `ready ≤ 1.5 s from spawn: API only ${fmt(api.readyMs, 0)} ms, full service ${fmt(full.readyMs, 0)} ms`,
    ),
  ];
}

/** The --ceiling report: printed and written to CEILING.md. `rows`: [server name, { send, 'verify-wrong' }]. */
export function writeCeiling({ started, startedAt, build, migrateMs, serverSettings }, pg, rows) {
  const cell = (r, p) =>
    `${fmt(r.rps, 0)} (${fmt(r.rps / p.tps, 2)}×), p99 ${fmt(r.lat.p99, 1)} ms, cpu ${fmt(r.serviceCpuPct, 0)}% = ${fmt(r.cpuUsPerReq, 0)} µs/req${r.unexpected || r.errors ? `, ${r.unexpected} unexpected ${r.errors} errors` : ''}`;
  const tbl = table(
    ['server', 'send req/s (÷ pgbench)', 'verify-wrong req/s (÷ pgbench)'],
    [
      ['pgbench, same SQL', `${fmt(pg.send.tps, 0)} (1×)`, `${fmt(pg.verify.tps, 0)} (1×)`],
      ...rows.map(([name, m]) => [name, cell(m.send, pg.send), cell(m['verify-wrong'], pg.verify)]),
    ],
  );
  const text = [
    '',
    tbl,
    '',
    'Issue 18 targets ([x] met, [ ] missed):',
    '',
    ...issue18Targets(rows),
    '',
    `- Saturation, ${CONNECTIONS} connections, ${SAT_S} s each, closed loop; "cpu" is the server process's CPU (100 % = one core). verify-wrong guesses wrong codes of ${VERIFY_ROWS} seeded pending codes (as pgbench's verify.sql does), so every request runs the SELECT and the conditional UPDATE.`,
    `- The full service's send run is also counted until its last delivery: at saturation the worker falls behind, and the sends still queued when the ${SAT_S} s run ends are delivered afterwards, outside the run's own CPU. The sustained rate (sends ÷ the time until all were delivered) is what the machine can keep up with.`,
    `- The bare server and the API only are also measured paced at one rate (${EQUAL_SHARE} × the bare server's saturation rate), ${HALF_S} s each: at saturation each runs at its own rate, and the writes that wake PostgreSQL, most of the bare server's CPU, cost less per request the busier the database is.`,
    ...runNotes({ started, startedAt, build, serverSettings }, `migrate ${fmt(migrateMs / 1000, 1)} s; `),
  ].join('\n');
  printAndWrite(
    'CEILING.md',
    [
      '# Ceiling (last run)',
      '',
      'Produced by `npm run bench -- --ceiling`. The same SQL through pgbench, through the thinnest Node.js server',
      'possible (bench/bare-server.mjs) and through the service, in one run on one machine. See bench/PROFILE.md.',
    ],
    text,
  );
}

/** The machine, the service's settings and the run's timing: the last lines of --ceiling and --replicas. */
function runNotes({ started, startedAt, build, serverSettings }, extra = '') {
  return [
    `- Machine: ${machine.nproc} cores (${machine.cpu}); Node ${machine.node}; server ${machine.server}. PostgreSQL settings: ${serverSettings}.`,
    `- ${THROTTLE_NOTE}.`,
    `- ${startedAt}; wall time ${fmt((performance.now() - started) / 1000, 0)} s; ${extra}${build}.`,
    '',
  ];
}

/** Prints `text` and writes it under `heading` to bench/<file>. */
function printAndWrite(file, heading, text) {
  process.stdout.write(text);
  writeFileSync(path.join(ROOT, 'bench', file), [...heading, text].join('\n'));
  log(`wrote bench/${file}`);
}

/** The --replicas report (the cost model's figures): printed and written to REPLICAS.md. */
export function writeReplicas(run, runs) {
  const cell = (m) =>
    `${fmt(m.rps, 0)} req/s, p99 ${fmt(m.p99, 1)} ms (slowest replica); API ${fmt(m.cpuUsPerReq, 0)} µs/req, API + PostgreSQL ${fmt(m.serverAndDbUsPerReq, 0)} µs/req; machine ${fmt(m.machineBusyPct, 0)} % busy${m.errors ? `; ${m.errors} errors` : ''}`;
  const base = runs[0];
  const tbl = table(
    ['API replicas', 'send', 'verify-wrong', 'scaling (send / verify)'],
    runs.map((m) => [
      String(m.replicas),
      cell(m.send),
      cell(m['verify-wrong']),
      `${fmt(m.send.rps / base.send.rps, 2)}× / ${fmt(m['verify-wrong'].rps / base['verify-wrong'].rps, 2)}×`,
    ]),
  );
  const cores = (m) => fmt(m.serverAndDbUsPerReq / 1000, 2);
  const text = [
    '',
    tbl,
    '',
    `Cores per 1,000 req/s (API + PostgreSQL, one replica): send ${cores(base.send)}, verify-wrong ${cores(base['verify-wrong'])}; the API process alone: send ${fmt(base.send.cpuUsPerReq / 1000, 2)}, verify-wrong ${fmt(base['verify-wrong'].cpuUsPerReq / 1000, 2)}.`,
    '',
    `- API-only processes (DELIVERY_WORKER_ENABLED=false) of the production build; ${CONNECTIONS} connections split evenly over the replicas, closed loop, ${SAT_S} s per scenario. "API + PostgreSQL" is the whole machine's busy CPU per request less the load generator's own (it runs on the same cores), so it also holds whatever else ran.`,
    ...runNotes(run),
  ].join('\n');
  printAndWrite(
    'REPLICAS.md',
    [
      '# API replicas (last run)',
      '',
      'Produced by `npm run bench -- --replicas`: 1, 2 and 4 API processes on one machine. The cost model is in bench/README.md.',
    ],
    text,
  );
}
