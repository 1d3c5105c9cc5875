// The children: the fake DNZ provider and the service (or bench/bare-server.mjs) with its
// environment, readiness timing, RSS sampling every 100 ms, V8 heap from /metrics, and stopping.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { track } from './lifecycle.mjs';
import { freePort, request } from './http.mjs';
import { readProc } from './machine.mjs';
import {
  API_KEY,
  DB,
  DNZ_KEY,
  HASH_SECRET,
  HIGH,
  MAX_ATTEMPTS,
  OUT,
  PG_URL,
  PROFILE,
  ROOT,
  THROTTLE_OFF,
} from './settings.mjs';
import { log, sleep } from './util.mjs';

export async function startFake() {
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

/** The container image's NODE_OPTIONS (its `ENV NODE_OPTIONS=` line): the service runs as the image runs it. */
export const IMAGE_NODE_OPTIONS =
  /^ENV NODE_OPTIONS=(.+)$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1].trim() ?? '';

function serviceEnv(port, fakePort, extraEnv = {}) {
  return {
    NODE_OPTIONS: IMAGE_NODE_OPTIONS,
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
export const THROTTLE_NOTE = `NODE_OPTIONS=${IMAGE_NODE_OPTIONS || '(none)'} as the container image sets it (Dockerfile); ${
  THROTTLE_OFF
    ? 'BENCH_THROTTLE=off: THROTTLE_{SEND,VERIFY}_PER_{PHONE,IP}_HOUR and OTP_GLOBAL_SENDS_PER_MINUTE set to 0 (every throttler off)'
    : 'THROTTLE_{SEND,VERIFY}_PER_{PHONE,IP}_HOUR and OTP_GLOBAL_SENDS_PER_MINUTE set to 1000000 (the maximum) so throttling never caps the benchmark (the throttlers still run)'
}; each request carries a distinct clientIp (10.x.y.z), as a backend forwarding its users' IPs would; OTP_RESEND_COOLDOWN_SECONDS=0; OTP_MAX_ATTEMPTS=10`;

// --profile runs the unbundled build (same code): the profile then names each package's frames.
export async function startService(
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
    spawnedAt: t0,
    readyMs,
    rss,
    idleRssMb: idle?.rssMb ?? 0,
    logPath,
    profDir,
    exited: () => exited,
    stopSampler: () => clearInterval(sampler),
  };
}

export async function stopService(svc, graceMs = 15_000) {
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

/** V8 heap of the service right after a phase (prom-client's default metrics at /metrics), in MB. */
export async function heapOf(port) {
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
