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
// Options: --profile   the send scenario once under `node --cpu-prof`, then bench/profile-summary.mjs
//          --quick     short runs (3 s / 3 s / pgbench 3 s) to check the harness itself
//          --no-build  use dist/ as it is
// Env: BENCH_CONNECTIONS (16), BENCH_DURATION (10 s), BENCH_HALF_DURATION (6 s), BENCH_PGBENCH_DURATION (10 s).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

// ---------------------------------------------------------------------------------------------
// settings
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench', '.out');
const argv = process.argv.slice(2);
const PROFILE_ARG = argv.find((a) => a === '--profile' || a.startsWith('--profile='));
const PROFILE = Boolean(PROFILE_ARG);
// --profile=verify-wrong (or send, verify-right, mixed): the scenario run under the profiler.
const PROFILE_SCENARIO = PROFILE_ARG?.split('=')[1] ?? 'send';
const QUICK = argv.includes('--quick');
const NO_BUILD = argv.includes('--no-build');
// --ceiling: the same SQL through pgbench, a bare node:http + pg server, the API alone and the service.
const CEILING = argv.includes('--ceiling');
// --split: the API and the delivery worker in two processes of the same build (API instances with
// DELIVERY_WORKER_ENABLED=false, one worker instance that takes no traffic), as docs/operations.md
// describes; the load goes to the API. Results go to RESULTS-split.md.
const SPLIT = argv.includes('--split');
const intEnv = (name, fallback) => {
  const v = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 16);
const SAT_S = intEnv('BENCH_DURATION', QUICK ? 3 : 10);
const HALF_S = intEnv('BENCH_HALF_DURATION', QUICK ? 3 : 6);
const PGBENCH_S = intEnv('BENCH_PGBENCH_DURATION', QUICK ? 3 : 10);
const WARMUP_S = QUICK ? 2 : 3;
const WATCHDOG_MS = 8 * 60 * 1000; // the whole run, whatever happens
const PG = { host: '127.0.0.1', port: '5432', user: 'postgres' };
const PG_URL = (db) => `postgresql://${PG.user}@${PG.host}:${PG.port}/${db}`;
// Production mode refuses published, short or low-entropy secrets: each run generates its own.
const API_KEY = randomBytes(24).toString('base64url');
const DNZ_KEY = randomBytes(24).toString('base64url');
const HASH_SECRET = randomBytes(36).toString('base64url');
const MAX_ATTEMPTS = 10; // OTP_MAX_ATTEMPTS: 9 wrong guesses per code before it burns
const VERIFY_ROWS = 200_000; // pending codes seeded for pgbench's verify.sql
// Throttles: the validator's maximum (1000000) by default; BENCH_THROTTLE=off sets 0 (= off) instead.
const THROTTLE_OFF = process.env.BENCH_THROTTLE === 'off';
const HIGH = THROTTLE_OFF ? '0' : '1000000';
const TS = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const DB = `otp_bench_${TS}`;
const DB_PG = `${DB}_pg`;

mkdirSync(OUT, { recursive: true });
const now = () => performance.timeOrigin + performance.now(); // wall clock, sub-ms (same in fake-dnz)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const fmt = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(d));

// ---------------------------------------------------------------------------------------------
// cleanup: children and databases, on every way out
const children = new Set();
const databases = [];
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const db of databases.splice(0)) {
    spawnSync('psql', pgArgs('postgres', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`), {
      timeout: 30_000,
    });
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`\n${sig}: stopping children and dropping the bench databases`);
    cleanup();
    process.exit(130);
  });
}
process.on('unhandledRejection', (e) => {
  log('bench failed:', e?.stack ?? e);
  process.exit(1);
});
const watchdog = setTimeout(() => {
  log(`bench: watchdog (${WATCHDOG_MS / 1000} s) fired; aborting`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

// ---------------------------------------------------------------------------------------------
// shell helpers (all bounded in time)
function pgArgs(db, sql) {
  return ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-tAqc', sql];
}
function psql(db, sql, timeout = 120_000) {
  const r = spawnSync('psql', pgArgs(db, sql), { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`psql failed (${sql.slice(0, 80)}…): ${r.stderr || r.error}`);
  return r.stdout.trim();
}
function sh(cmd, args, { env, timeout = 180_000, label } = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, env: env ?? process.env, encoding: 'utf8', timeout });
  if (r.status !== 0) {
    throw new Error(
      `${label ?? cmd} failed (${r.error ?? `exit ${r.status}`}):\n${(r.stdout + r.stderr).slice(-3000)}`,
    );
  }
  return { out: r.stdout, ms: performance.now() - t0 };
}
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout || r.stderr || '').split('\n')[0].trim();
}

function request(port, method, urlPath, body, timeout = 5000) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent: false,
        timeout,
        headers: data
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
          : {},
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON: the caller reads `text`
          }
          resolve({ status: res.statusCode, json, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout ${method} ${urlPath}`)));
    req.on('error', reject);
    req.end(data);
  });
}

// ---------------------------------------------------------------------------------------------
// machine
function cpuSnapshot() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
}
async function machineIdle(ms = 1000) {
  const a = cpuSnapshot();
  await sleep(ms);
  const b = cpuSnapshot();
  return (100 * (b.idle - a.idle)) / Math.max(1, b.total - a.total);
}
const machine = {
  cores: availableParallelism(),
  nproc: firstLine('nproc', []),
  cpu: cpus()[0]?.model ?? '?',
  memGb: (totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  psql: firstLine('psql', ['--version']),
  pgbench: firstLine('pgbench', ['--version']),
  server: '',
};

// ---------------------------------------------------------------------------------------------
// build + databases
function newestMtime(dir, skip) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (skip(p)) continue;
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p, skip) : statSync(p).mtimeMs);
  }
  return newest;
}
function buildIfStale() {
  const main = path.join(ROOT, 'dist', 'main.bundle.mjs');
  const generated = path.join(ROOT, 'src', 'generated');
  const srcNewest = Math.max(
    newestMtime(path.join(ROOT, 'src'), (p) => p.startsWith(generated) || p.endsWith('.spec.ts')),
    statSync(path.join(ROOT, 'prisma', 'schema.prisma')).mtimeMs,
  );
  const stale = !existsSync(main) || statSync(main).mtimeMs < srcNewest;
  if (!stale) return 'dist/ up to date';
  if (NO_BUILD && existsSync(main)) return 'dist/ older than src/ (--no-build: used as is)';
  log('building (npm run build)…');
  try {
    const { ms } = sh('npm', ['run', '--silent', 'build'], { label: 'npm run build', timeout: 240_000 });
    return `built (npm run build, ${(ms / 1000).toFixed(1)} s)`;
  } catch (error) {
    if (!existsSync(main)) throw error;
    log(
      `WARNING: npm run build failed; benchmarking the existing dist/:\n${String(error.message).slice(-800)}`,
    );
    return 'npm run build FAILED; existing dist/ used';
  }
}
function createDatabases() {
  psql('postgres', `CREATE DATABASE "${DB}"`);
  databases.push(DB);
  const env = { ...process.env, DATABASE_URL: PG_URL(DB) };
  const { ms } = sh('npm', ['run', '--silent', 'db:migrate'], {
    env,
    label: 'npm run db:migrate',
    timeout: 120_000,
  });
  psql('postgres', `CREATE DATABASE "${DB_PG}" TEMPLATE "${DB}"`);
  databases.push(DB_PG);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// pgbench: the physical limit of the same SQL, same concurrency, same server
function seedPgbenchVerifyRows(db = DB_PG) {
  psql(
    db,
    `INSERT INTO one_time_codes (id, phone, purpose, code_hash, hash_key_id, client, max_attempts, expires_at, created_at)
     SELECT gen_random_uuid(), '+23324' || lpad((8000000 + i)::text, 7, '0'), 'login',
            'q8Vx3nYp0Jt6bWc1Lr5sZk9uHd2Ge7Fa4Mi8No3Po6Q', 'k7f3a9c1', 'bench', ${MAX_ATTEMPTS},
            now() + interval '2 hours', now() - interval '1 minute'
     FROM generate_series(1, ${VERIFY_ROWS}) AS i;
     ANALYZE;
     CHECKPOINT;`,
  );
}
function pgbench(label, scripts) {
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

// ---------------------------------------------------------------------------------------------
// children: fake provider, service, RSS/CPU sampling
async function startFake() {
  const child = track(
    spawn(process.execPath, [path.join(ROOT, 'bench', 'fake-dnz.mjs'), '--port', '0', '--api-key', DNZ_KEY], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('fake DNZ did not start within 10 s')), 10_000);
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      const m = /"port":(\d+)/.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`fake DNZ exited (${code})`)));
  });
  return { child, port };
}

function serviceEnv(port, fakePort, extraEnv = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: process.env.LANG ?? 'C.UTF-8',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: PG_URL(DB),
    CLIENT_API_KEYS: `bench:${API_KEY}`,
    OTP_HASH_SECRET: HASH_SECRET,
    OTP_PROVIDERS: 'dnz',
    WHATSAPP_OTP_ENGINE_URL: `http://127.0.0.1:${fakePort}`,
    WHATSAPP_OTP_API_KEY: DNZ_KEY,
    OTP_RESEND_COOLDOWN_SECONDS: '0',
    OTP_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    // Raised so that throttling never caps the benchmark (reported with the results).
    THROTTLE_SEND_PER_PHONE_HOUR: HIGH,
    THROTTLE_SEND_PER_IP_HOUR: HIGH,
    THROTTLE_VERIFY_PER_PHONE_HOUR: HIGH,
    THROTTLE_VERIFY_PER_IP_HOUR: HIGH,
    OTP_GLOBAL_SENDS_PER_MINUTE: HIGH,
    // e.g. BENCH_SERVICE_ENV='{"DATABASE_WORKER_SYNCHRONOUS_COMMIT":"false"}' (reported in the notes)
    ...JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}'),
    ...extraEnv,
  };
}
const THROTTLE_NOTE = `${
  THROTTLE_OFF
    ? 'BENCH_THROTTLE=off: THROTTLE_{SEND,VERIFY}_PER_{PHONE,IP}_HOUR and OTP_GLOBAL_SENDS_PER_MINUTE set to 0 (every throttler off)'
    : 'THROTTLE_{SEND,VERIFY}_PER_{PHONE,IP}_HOUR and OTP_GLOBAL_SENDS_PER_MINUTE set to 1000000 (the maximum) so throttling never caps the benchmark (the throttlers still run)'
}; each request carries a distinct clientIp (10.x.y.z), as a backend forwarding its users' IPs would; OTP_RESEND_COOLDOWN_SECONDS=0; OTP_MAX_ATTEMPTS=10`;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function readProc(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssMb: rssKb / 1024, cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

// --profile runs the unbundled build (same code): the profile then names each package's frames.
async function startService(
  fakePort,
  { extraEnv, script = PROFILE ? 'dist/main.js' : 'dist/main.bundle.mjs', label = 'service' } = {},
) {
  const port = await freePort();
  const logPath = path.join(OUT, PROFILE ? 'service-profile.log' : `${label}.log`);
  const fd = openSync(logPath, 'w');
  const profDir = path.join(OUT, 'prof');
  const nodeArgs = [
    ...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
    // e.g. BENCH_NODE_ARGS='--heap-prof --heap-prof-dir bench/.out/heap' (extra flags for the service)
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  if (PROFILE) mkdirSync(profDir, { recursive: true });
  const t0 = performance.now();
  const child = track(
    spawn(process.execPath, [...nodeArgs, script], {
      cwd: ROOT, // readiness reads prisma/migrations relative to the working directory
      env: serviceEnv(port, fakePort, extraEnv),
      stdio: ['ignore', fd, fd],
    }),
  );
  closeSync(fd);
  let exited;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const rss = { peak: 0, phasePeak: 0, samples: 0 };
  const sampler = setInterval(() => {
    const p = readProc(child.pid);
    if (!p) return;
    rss.samples++;
    rss.peak = Math.max(rss.peak, p.rssMb);
    rss.phasePeak = Math.max(rss.phasePeak, p.rssMb);
  }, 100);
  // spawn → /health/ready = 200, polled every 20 ms, bounded
  let readyMs;
  while (performance.now() - t0 < 30_000) {
    if (exited) break;
    try {
      const r = await request(port, 'GET', '/health/ready', undefined, 1000);
      if (r.status === 200) {
        readyMs = performance.now() - t0;
        break;
      }
    } catch {
      // not up yet
    }
    await sleep(20);
  }
  if (readyMs === undefined) {
    const tail = existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-3000) : '';
    throw new Error(
      `service not ready within 30 s (${JSON.stringify(exited ?? 'running')}); log tail:\n${tail}`,
    );
  }
  const idle = readProc(child.pid);
  return {
    child,
    port,
    readyMs,
    rss,
    idleRssMb: idle?.rssMb ?? 0,
    logPath,
    profDir,
    exited: () => exited,
    stopSampler: () => clearInterval(sampler),
  };
}

async function stopService(svc, graceMs = 15_000) {
  svc.stopSampler();
  if (svc.exited()) return;
  const done = new Promise((r) => svc.child.once('exit', r));
  svc.child.kill('SIGTERM');
  const t = await Promise.race([done.then(() => 'exited'), sleep(graceMs).then(() => 'timeout')]);
  if (t === 'timeout') {
    log(`service did not stop within ${graceMs} ms of SIGTERM; killing it`);
    svc.child.kill('SIGKILL');
    await Promise.race([done, sleep(3000)]);
  }
}

// ---------------------------------------------------------------------------------------------
// load: phones, code pools, autocannon runs
let phoneSeq = Math.floor(Math.random() * 4_000_000); // +23324xxxxxxx, never reused in a run
const nextPhone = () => {
  const local = String(phoneSeq++ % 10_000_000).padStart(7, '0');
  return { phone: `+23324${local}`, digits: `23324${local}` };
};
// The end user's IP as a calling backend forwards it (`clientIp`): distinct users, so the per-IP
// throttle buckets stay as small as in production instead of one 127.0.0.1 bucket for everything.
let ipSeq = 1;
const nextIp = () => {
  const n = ipSeq++ % 16_000_000;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};
const accepted = new Map(); // digits → acceptance time (instant-provider sends)
const delivered = new Map(); // digits → { t, code } as received by the fake provider
let receivedIndex = 0;
const rightPool = []; // { phone, code }: delivered codes nobody has guessed yet
const wrongPool = []; // { phone, code, left }: codes taking wrong guesses (left before the code would burn)

const wrongCodeOf = (code) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, '0');

const undelivered = new Set(); // accepted (instant provider) but not yet seen at the provider

/** Reads the provider's new messages until every accepted send has arrived (bounded); fills the code pool. */
async function syncDeliveries(fakePort, maxWaitMs) {
  const t0 = performance.now();
  const before = undelivered.size;
  for (;;) {
    const rows = (await request(fakePort, 'GET', `/_received?from=${receivedIndex}`, undefined, 30_000)).json;
    receivedIndex += rows.length;
    for (const [digits, t, code] of rows) {
      if (delivered.has(digits) || !code) continue;
      delivered.set(digits, { t, code });
      undelivered.delete(digits);
      if (accepted.has(digits)) rightPool.push({ phone: `+${digits}`, code });
    }
    if (undelivered.size === 0 || performance.now() - t0 > maxWaitMs) break;
    await sleep(100);
  }
  const waitedMs = performance.now() - t0;
  return {
    waitedMs,
    backlog: undelivered.size,
    drainRate: waitedMs > 200 ? ((before - undelivered.size) * 1000) / waitedMs : undefined,
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
function summarise(values) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
}

const HEADERS = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
const verifyRequest = (req, phone, code) => ({
  ...req,
  method: 'POST',
  path: '/v1/otp/verify',
  headers: HEADERS,
  body: JSON.stringify({ phone, code, clientIp: nextIp() }),
});

/**
 * One autocannon run. `kinds` is the request sequence per connection (['send'], ['verify-right'],
 * ['send', 'verify-right'] …). `rate` undefined = saturation (closed loop, CONNECTIONS in flight);
 * otherwise an even pace of `rate` req/s over all connections (see pacing below).
 */
async function load({ port, kinds, durationS, rate, instantProvider, onAccepted }) {
  const stats = { latencies: [], lags: [], status: {}, unexpected: 0, responses: 0, fillers: 0 };
  const expected = { send: 202, 'verify-right': 200, 'verify-wrong': 400 };
  let instance;
  let exhausted = false;
  const exhaust = () => {
    if (!exhausted) {
      exhausted = true;
      instance?.stop();
    }
  };
  const builders = {
    send(req, ctx) {
      const { phone, digits } = nextPhone();
      ctx.kind = 'send';
      ctx.digits = digits;
      return {
        ...req,
        method: 'POST',
        path: '/v1/otp/send',
        headers: HEADERS,
        body: JSON.stringify({ phone, clientIp: nextIp() }),
      };
    },
    'verify-right'(req, ctx) {
      const e = rightPool.pop();
      if (!e) return filler(req, ctx);
      ctx.kind = 'verify-right';
      return verifyRequest(req, e.phone, e.code);
    },
    // --ceiling: a wrong guess at one of the pending codes seeded like pgbench's (no code pool needed)
    'verify-seeded'(req, ctx) {
      ctx.kind = 'verify-wrong';
      const n = 8_000_000 + 1 + Math.floor(Math.random() * VERIFY_ROWS);
      return verifyRequest(req, `+23324${n}`, '000000');
    },
    'verify-wrong'(req, ctx) {
      // Fresh codes join the wrong-guess rotation as needed (~64 codes in rotation).
      if (wrongPool.length < 64 && rightPool.length > 0)
        wrongPool.push({ ...rightPool.pop(), left: MAX_ATTEMPTS - 1 });
      const e = wrongPool[wrongPool.length - 1];
      if (!e) return filler(req, ctx);
      if (--e.left <= 0) wrongPool.pop();
      else if (wrongPool.length > 1) wrongPool.unshift(wrongPool.pop()); // round robin
      ctx.kind = 'verify-wrong';
      return verifyRequest(req, e.phone, wrongCodeOf(e.code));
    },
  };
  // Out of codes: stop the run; until autocannon stops (≤ 1 s) send cheap probes that are not counted.
  function filler(req, ctx) {
    exhaust();
    ctx.kind = 'filler';
    return { ...req, method: 'GET', path: '/health/live', headers: {}, body: undefined };
  }

  // autocannon's own rate limit (overallRate/connectionRate) sends each connection's per-second
  // budget as a burst at the start of every second, so "half rate" would be measured inside
  // saturation bursts. Instead each client's _doRequest is paced evenly (autocannon 8.0.0
  // internals, pinned): connection i sends at t0 + phase_i + k·interval, interval = CONNECTIONS/rate.
  const setupClient = rate
    ? (client) => {
        const send = client._doRequest;
        const interval = (1000 * CONNECTIONS) / rate;
        let next = performance.now() + Math.random() * interval;
        client._doRequest = function paced(...a) {
          if (this.destroyed) return;
          const t = performance.now();
          let slot = next;
          if (slot < t - 1000) slot = t; // never build up more than 1 s of catch-up
          next = slot + interval;
          if (slot <= t) {
            stats.lags.push(t - slot);
            return send.apply(this, a);
          }
          setTimeout(() => {
            if (this.destroyed) return;
            stats.lags.push(Math.max(0, performance.now() - slot));
            send.apply(this, a);
          }, slot - t);
        };
      }
    : undefined;

  const t0 = performance.now();
  instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: durationS,
    timeout: 10,
    setupClient,
    requests: kinds.map((k) => ({ setupRequest: builders[k] })),
  });
  if (exhausted) instance.stop();
  instance.on('response', (client, status, _bytes, responseTime) => {
    const ctx = client.requestIterator.context;
    if (ctx.kind === 'filler') {
      stats.fillers++;
      return;
    }
    stats.responses++;
    stats.latencies.push(responseTime);
    const key = `${ctx.kind}:${status}`;
    stats.status[key] = (stats.status[key] ?? 0) + 1;
    if (status !== expected[ctx.kind]) stats.unexpected++;
    if (ctx.kind === 'send' && status === 202) {
      if (instantProvider) {
        accepted.set(ctx.digits, now());
        if (!delivered.has(ctx.digits)) undelivered.add(ctx.digits);
      }
      onAccepted?.(ctx.digits);
    }
  });
  const result = await instance;
  const elapsedS = Math.min((performance.now() - t0) / 1000, result.duration || Infinity);
  const lat = summarise(stats.latencies);
  return {
    rps: stats.responses / elapsedS,
    elapsedS,
    exhausted,
    lat,
    lag: rate ? summarise(stats.lags) : undefined,
    errors: result.errors + result.timeouts,
    unexpected: stats.unexpected,
    status: stats.status,
    responses: stats.responses,
  };
}

// ---------------------------------------------------------------------------------------------
// scenarios
async function scenario(
  ctx,
  name,
  kinds,
  { instantProvider = true, needsRight = 0, needsWrong = 0, halfRate, lightRate } = {},
) {
  const { svc, fake } = ctx;
  const out = { name, kinds };
  const phase = async (label, durationS, rate, extra) => {
    const r0 = {};
    // Until a scenario has run once, guess its rate from the sends (verifies are usually faster).
    const expectRate = rate ?? ctx.estimate[name] ?? 1.5 * (ctx.estimate.send ?? 0);
    await ensureCodes(ctx, label, needsRight * expectRate * durationS, needsWrong * expectRate * durationS);
    if (!instantProvider) r0.settle = await settleQueue(10_000);
    const cpu0 = readProc(svc.child.pid)?.cpuTicks ?? 0;
    svc.rss.phasePeak = 0;
    const idle = await machineIdle(500);
    log(`${name} @ ${label}${rate ? ` (${rate.toFixed(0)} req/s paced)` : ''}, ${durationS} s …`);
    const r = Object.assign(
      r0,
      await load({ port: svc.port, kinds, durationS, rate, instantProvider, ...extra }),
    );
    const cpu1 = readProc(svc.child.pid)?.cpuTicks ?? 0;
    r.peakRssMb = svc.rss.phasePeak;
    r.heap = await heapOf(svc.port);
    r.serviceCpuPct = (cpu1 - cpu0) / r.elapsedS; // ticks are 1/100 s → % of one core
    r.machineIdleBeforePct = idle;
    r.load1 = loadavg()[0];
    log(
      `  ${fmt(r.rps, 0)} req/s  p50 ${fmt(r.lat.p50, 2)} p99 ${fmt(r.lat.p99, 2)} max ${fmt(r.lat.max, 1)} ms` +
        `  unexpected ${r.unexpected} errors ${r.errors}  rss ${fmt(r.peakRssMb, 0)} MB  service cpu ${fmt(r.serviceCpuPct, 0)}%` +
        (r.heap
          ? `  heap used/total ${r.heap.used}/${r.heap.total} MB, external ${r.heap.external} MB`
          : '') +
        (r.exhausted ? `  (codes ran out after ${fmt(r.elapsedS, 1)} s)` : ''),
    );
    return r;
  };
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
    const lats = [];
    let missing = 0;
    for (const d of halfAccepted) {
      const got = delivered.get(d);
      if (got) lats.push(got.t - accepted.get(d));
      else missing++;
    }
    out.delivery = { accepted: halfAccepted.length, atProvider: lats.length, missing, ...summarise(lats) };
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

/** V8 heap of the service right after a phase (prom-client's default metrics at /metrics), in MB. */
async function heapOf(port) {
  try {
    const { text } = await request(port, 'GET', '/metrics');
    const mb = (name) =>
      Math.round(Number(new RegExp(`^otp_process_${name} (\\S+)`, 'm').exec(text)?.[1]) / 1048576);
    return {
      used: mb('nodejs_heap_size_used_bytes'),
      total: mb('nodejs_heap_size_total_bytes'),
      external: mb('nodejs_external_memory_bytes'),
    };
  } catch {
    return undefined;
  }
}

/** Waits (bounded) until few delivery jobs are runnable now, so a phase does not start inside the previous one's backlog. */
async function settleQueue(maxMs) {
  const t0 = performance.now();
  let runnable = 0;
  do {
    runnable = Number(
      psql(
        DB,
        'SELECT count(*) FROM graphile_worker._private_jobs WHERE locked_at IS NULL AND run_at <= now() AND attempts < max_attempts',
        10_000,
      ),
    );
    if (runnable <= 50) break;
    await sleep(250);
  } while (performance.now() - t0 < maxMs);
  return { runnable, waitedMs: performance.now() - t0 };
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

// ---------------------------------------------------------------------------------------------
// report
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
function table(headers, rows) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(w[i])).join(' | ')} |`;
  return [line(headers), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  log(`bench: ${machine.nproc} cores, Node ${machine.node}, ${machine.psql}; ${CONNECTIONS} connections`);
  const build = buildIfStale();
  log(build);
  const migrateMs = createDatabases();
  machine.server = psql(DB, 'SHOW server_version');
  const serverSettings = psql(
    DB,
    "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('max_connections','shared_buffers','synchronous_commit','fsync','wal_level')",
  );

  if (CEILING) return ceiling({ started, startedAt, build, migrateMs, serverSettings });

  // pgbench first, alone on the machine (the service is not started yet)
  const pg = {};
  if (!PROFILE) {
    seedPgbenchVerifyRows();
    pg.send = pgbench('send', ['send.sql']);
    pg.verify = pgbench('verify', ['verify.sql']);
    pg.mixed = pgbench('mixed', ['send.sql@1', 'verify.sql@1']);
    for (const p of Object.values(pg))
      log(`  ${p.label}: ${fmt(p.tps, 0)} tps, latency avg ${fmt(p.latency, 2)} ms, failed ${p.failed}`);
  }

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

  const results = {};
  if (PROFILE && PROFILE_SCENARIO !== 'send') {
    const options = {
      'verify-right': [['verify-right'], { needsRight: 1 }],
      'verify-wrong': [['verify-wrong'], { needsWrong: 1 }],
      mixed: [['send', 'verify-right'], { needsRight: 0.5 }],
    }[PROFILE_SCENARIO];
    if (!options) throw new Error(`--profile=${PROFILE_SCENARIO}: no such scenario`);
    results[PROFILE_SCENARIO] = await scenario(ctx, PROFILE_SCENARIO, ...options);
  } else {
    results.send = await scenario(ctx, 'send', ['send'], {
      lightRate: PROFILE ? undefined : (out) => Math.max(1, out.sat.rps / 4),
    });
  }
  if (!PROFILE) {
    results['verify-right'] = await scenario(ctx, 'verify-right', ['verify-right'], { needsRight: 1 });
    results['verify-wrong'] = await scenario(ctx, 'verify-wrong', ['verify-wrong'], { needsWrong: 1 });
    results.mixed = await scenario(ctx, 'mixed', ['send', 'verify-right'], { needsRight: 0.5 });
    await request(fake.port, 'POST', '/_mode', { mode: 'hang' });
    results['send-hang'] = await scenario(ctx, 'send-hang', ['send'], {
      instantProvider: false,
      halfRate: results.send.halfTarget,
      lightRate: results.send.lightTarget,
    });
    const hangStats = (await request(fake.port, 'GET', '/_stats')).json;
    results['send-hang'].providerCalls = hangStats.hangReceived;
    await request(fake.port, 'POST', '/_mode', { mode: 'instant' });
    await request(fake.port, 'POST', '/_release');
  }
  const peakRss = svc.rss.peak;
  const workerPeakRss = worker?.rss.peak;
  await stopService(svc);
  if (worker) await stopService(worker);
  fake.child.kill('SIGTERM');

  // ---- the report
  const d = results.send?.delivery;
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
  const rows = Object.entries(results).map(([name, s]) => row(name, s, pgFor[name]));
  const tbl = table(headers, rows);
  const hang = results['send-hang'];
  const target = (ok, text) => `- [${ok === undefined ? '?' : ok ? 'x' : ' '}] ${text}`;
  const p50Shift = (a, b) => (b && a ? ((b - a) / a) * 100 : undefined);
  const targets = PROFILE
    ? []
    : [
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
        target(
          svc.readyMs <= 2000,
          `ready ≤ 2 s: ${fmt(svc.readyMs, 0)} ms from spawn to /health/ready = 200`,
        ),
        target(
          d.missing === 0 && d.p99 <= 1000,
          `every accepted send at the provider within 1 s (send at half, ${fmt(results.send.half.rps, 0)} req/s): ${d.atProvider}/${d.accepted} received, acceptance→provider p50 ${fmt(d.p50, 1)} / p99 ${fmt(d.p99, 1)} / max ${fmt(d.max, 1)} ms`,
        ),
      ];
  const satDrain = results.send?.satDelivery ?? { waitedMs: 0, backlog: 0 };
  const notes = [
    `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memGb} GB; Node ${machine.node}; ${machine.psql}; server ${machine.server}; ${machine.pgbench}.`,
    `PostgreSQL settings: ${serverSettings}.`,
    `Load: ${CONNECTIONS} connections, autocannon 8 (programmatic, distinct +23324xxxxxxx phones via setupRequest), load generator in this process, service in another; saturation runs ${SAT_S} s (closed loop), half runs ${HALF_S} s paced evenly at half the measured saturation rate; latency = autocannon's per-request response time; pgbench -c ${CONNECTIONS} -j 2 -T ${PGBENCH_S} -M prepared on a clone of the same migrated database, run before the service starts.`,
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
    const profiles = readdirSync(svc.profDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(svc.profDir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (!profiles[0]) throw new Error('no .cpuprofile written (did the service exit cleanly?)');
    log(`\nprofile: ${profiles[0]}`);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'profile-summary.mjs'), profiles[0]], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    process.stdout.write(r.stdout + r.stderr);
    writeFileSync(path.join(OUT, 'profile-summary.txt'), `${text}\n${r.stdout}`);
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

// ---------------------------------------------------------------------------------------------
// --ceiling: how much of the gap to pgbench any Node.js server on this machine leaves, how much the
// service's own request handling adds, and how much its delivery worker takes from the API.
async function ceiling({ started, startedAt, build, migrateMs, serverSettings }) {
  seedPgbenchVerifyRows(DB_PG);
  seedPgbenchVerifyRows(DB); // the servers guess wrong codes of the same seeded rows
  const pg = { send: pgbench('send', ['send.sql']), verify: pgbench('verify', ['verify.sql']) };
  for (const p of Object.values(pg))
    log(`  ${p.label}: ${fmt(p.tps, 0)} tps, latency avg ${fmt(p.latency, 2)} ms, failed ${p.failed}`);
  const fake = await startFake();
  const servers = [
    ['bare node:http + pg (bench/bare-server.mjs)', { script: 'bench/bare-server.mjs', label: 'bare' }],
    ['service, API only (DELIVERY_WORKER_ENABLED=false)', { extraEnv: { DELIVERY_WORKER_ENABLED: 'false' } }],
    ['service (API + delivery worker, as `npm run bench`)', { worker: true }],
  ];
  const rows = [];
  for (const [name, options] of servers) {
    // Jobs the servers without a worker enqueued stay undelivered: drop them, so no backlog is inherited.
    psql(DB, 'DELETE FROM graphile_worker._private_jobs');
    const svc = await startService(fake.port, options);
    log(`${name}: ready in ${fmt(svc.readyMs, 0)} ms`);
    await load({ port: svc.port, kinds: ['send'], durationS: WARMUP_S });
    const measured = {};
    for (const [scenarioName, kinds] of [
      ['send', ['send']],
      ['verify-wrong', ['verify-seeded']],
    ]) {
      if (options.worker) await settleQueue(10_000);
      const cpu0 = readProc(svc.child.pid)?.cpuTicks ?? 0;
      const m0 = cpuSnapshot();
      const r = await load({ port: svc.port, kinds, durationS: SAT_S });
      const m1 = cpuSnapshot();
      r.serviceCpuPct = ((readProc(svc.child.pid)?.cpuTicks ?? 0) - cpu0) / r.elapsedS;
      r.machineBusyPct = 100 - (100 * (m1.idle - m0.idle)) / Math.max(1, m1.total - m0.total);
      log(
        `  ${scenarioName}: ${fmt(r.rps, 0)} req/s  p50 ${fmt(r.lat.p50, 2)} p99 ${fmt(r.lat.p99, 2)} ms  unexpected ${r.unexpected} errors ${r.errors}  server cpu ${fmt(r.serviceCpuPct, 0)}%  machine busy ${fmt(r.machineBusyPct, 0)}%`,
      );
      measured[scenarioName] = r;
    }
    await stopService(svc);
    rows.push([name, measured]);
  }
  fake.child.kill('SIGTERM');
  const cell = (r, p) =>
    `${fmt(r.rps, 0)} (${fmt(r.rps / p.tps, 2)}×), p99 ${fmt(r.lat.p99, 1)} ms, cpu ${fmt(r.serviceCpuPct, 0)}%${r.unexpected || r.errors ? `, ${r.unexpected} unexpected ${r.errors} errors` : ''}`;
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
    `- Saturation, ${CONNECTIONS} connections, ${SAT_S} s each, closed loop; "cpu" is the server process's CPU (100 % = one core). verify-wrong guesses wrong codes of ${VERIFY_ROWS} seeded pending codes (as pgbench's verify.sql does), so every request runs the SELECT and the conditional UPDATE.`,
    `- Machine: ${machine.nproc} cores (${machine.cpu}); Node ${machine.node}; server ${machine.server}. PostgreSQL settings: ${serverSettings}.`,
    `- ${THROTTLE_NOTE}.`,
    `- ${startedAt}; wall time ${fmt((performance.now() - started) / 1000, 0)} s; migrate ${fmt(migrateMs / 1000, 1)} s; ${build}.`,
    '',
  ].join('\n');
  process.stdout.write(text);
  writeFileSync(
    path.join(ROOT, 'bench', 'CEILING.md'),
    [
      '# Ceiling (last run)',
      '',
      'Produced by `npm run bench -- --ceiling`. The same SQL through pgbench, through the thinnest Node.js server',
      'possible (bench/bare-server.mjs) and through the service, in one run on one machine. See bench/PROFILE.md.',
      text,
    ].join('\n'),
  );
  log('wrote bench/CEILING.md');
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
