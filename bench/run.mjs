#!/usr/bin/env node
// `npm run bench`: the service against PostgreSQL's own limit on the same machine (issue 8).
//
//  1. builds dist/ when it is missing or older than src/ (npm run build);
//  2. creates a fresh database otp_bench_<ts>, migrates it (npm run db:migrate) and clones it as
//     otp_bench_<ts>_pg (CREATE DATABASE … TEMPLATE: the same migrated schema) for pgbench;
//  3. pgbench runs the service's own SQL (bench/pgbench/send.sql, verify.sql, and both 1:1) with
//     the same concurrency (-c CONNECTIONS -j 2 -T 10, -M prepared, as the service prepares its hot statements);
//  4. starts a local DNZ provider (bench/fake-dnz.mjs) and `node dist/main.bundle.mjs` (production env),
//     timing spawn → /health/ready = 200 and sampling VmRSS every 100 ms;
//  5. drives the scenarios with autocannon (programmatic API, distinct bodies via setupRequest):
//     send, verify (right codes, read from the provider's messages), verify (wrong codes), mixed
//     1 send : 1 verify, send while the provider hangs; each at saturation and at half of it;
//  6. prints a table, the ratios and the issue-8 targets, writes bench/RESULTS.md, drops the
//     databases and stops every child (also on Ctrl-C, errors and the global watchdog).
//
// Options: --quick     short runs (3 s / 3 s / pgbench 3 s) to check the harness itself
//          --ceiling   pgbench, bench/bare-server.mjs, the API alone and the service → bench/CEILING.md
//          --split     the API and the delivery worker in two processes → bench/RESULTS-split.md
//          --replicas  1, 2 and 4 API-only processes sharing the load → bench/REPLICAS.md (cost model)
//          --profile[=send|verify-right|verify-wrong|mixed]  that scenario under `node --cpu-prof`,
//                      then bench/profile-summary.mjs
//          --no-build  use dist/ as it is
// Env: BENCH_CONNECTIONS (16), BENCH_DURATION (10 s), BENCH_HALF_DURATION (6 s), BENCH_PGBENCH_DURATION (10 s).
//
// This file only sequences the run; the parts live in bench/lib/ (see bench/README.md).
import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { buildIfStale } from './lib/build.mjs';
import { runCeiling } from './lib/ceiling.mjs';
import { createDatabases, serverInfo } from './lib/databases.mjs';
import { runFull } from './lib/full.mjs';
import { cleanup, installExitHandlers } from './lib/lifecycle.mjs';
import { machine } from './lib/machine.mjs';
import { runReplicas } from './lib/replicas.mjs';
import { writeCeiling, writeReplicas, writeResults } from './lib/report.mjs';
import { CEILING, CONNECTIONS, OUT, REPLICAS } from './lib/settings.mjs';
import { log } from './lib/util.mjs';

mkdirSync(OUT, { recursive: true });
installExitHandlers();

async function main() {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  log(`bench: ${machine.nproc} cores, Node ${machine.node}, ${machine.psql}; ${CONNECTIONS} connections`);
  const build = buildIfStale();
  log(build);
  const migrateMs = createDatabases();
  const server = serverInfo();
  machine.server = server.version;
  const run = { started, startedAt, build, migrateMs, serverSettings: server.settings };

  if (REPLICAS) {
    writeReplicas(run, await runReplicas());
  } else if (CEILING) {
    const { pg, rows } = await runCeiling();
    writeCeiling(run, pg, rows);
  } else {
    writeResults(run, await runFull());
  }
}

main()
  .then(() => {
    cleanup();
    process.exit(0);
  })
  .catch((error) => {
    log('bench failed:', error?.stack ?? error);
    cleanup();
    process.exit(1);
  });
