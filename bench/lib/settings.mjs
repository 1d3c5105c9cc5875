// The run's settings: command-line flags, BENCH_* environment, PostgreSQL, generated secrets and
// the names of this run's databases.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT = path.join(ROOT, 'bench', '.out');
const argv = process.argv.slice(2);
const PROFILE_ARG = argv.find((a) => a === '--profile' || a.startsWith('--profile='));
export const PROFILE = Boolean(PROFILE_ARG);
// --profile=verify-wrong (or send, verify-right, mixed): the scenario run under the profiler.
export const PROFILE_SCENARIO = PROFILE_ARG?.split('=')[1] ?? 'send';
export const QUICK = argv.includes('--quick');
export const NO_BUILD = argv.includes('--no-build');
// --ceiling: the same SQL through pgbench, a bare node:http + pg server, the API alone and the service.
export const CEILING = argv.includes('--ceiling');
// --split: the API and the delivery worker in two processes of the same build (API instances with
// DELIVERY_WORKER_ENABLED=false, one worker instance that takes no traffic), as docs/operations.md
// describes; the load goes to the API. Results go to RESULTS-split.md.
export const SPLIT = argv.includes('--split');
// --replicas: 1, 2 and 4 API-only processes sharing the load → bench/REPLICAS.md (the cost model).
export const REPLICAS = argv.includes('--replicas');
const intEnv = (name, fallback) => {
  const v = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
export const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 16);
export const SAT_S = intEnv('BENCH_DURATION', QUICK ? 3 : 10);
export const HALF_S = intEnv('BENCH_HALF_DURATION', QUICK ? 3 : 6);
export const PGBENCH_S = intEnv('BENCH_PGBENCH_DURATION', QUICK ? 3 : 10);
export const WARMUP_S = QUICK ? 2 : 3;
/** --ceiling compares the bare server's and the API's CPU per request paced at this share of the bare server's saturation rate too. */
export const EQUAL_SHARE = 0.4;
export const WATCHDOG_MS = 8 * 60 * 1000; // the whole run, whatever happens
export const PG = { host: '127.0.0.1', port: '5432', user: 'postgres' };
export const PG_URL = (db) => `postgresql://${PG.user}@${PG.host}:${PG.port}/${db}`;
// Production mode refuses published, short or low-entropy secrets: each run generates its own.
export const API_KEY = randomBytes(24).toString('base64url');
export const DNZ_KEY = randomBytes(24).toString('base64url');
export const HASH_SECRET = randomBytes(36).toString('base64url');
export const MAX_ATTEMPTS = 10; // OTP_MAX_ATTEMPTS: 9 wrong guesses per code before it burns
export const VERIFY_ROWS = 200_000; // pending codes seeded for pgbench's verify.sql
// Throttles: the validator's maximum (1000000) by default; BENCH_THROTTLE=off sets 0 (= off) instead.
export const THROTTLE_OFF = process.env.BENCH_THROTTLE === 'off';
export const HIGH = THROTTLE_OFF ? '0' : '1000000';
const TS = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
export const DB = `otp_bench_${TS}`;
export const DB_PG = `${DB}_pg`;
