// Prints how long `npm start` takes to reach /health/ready in embedded mode, as a newcomer runs it:
// a clean copy of this working tree (no dist/, no .env, no .data/, node_modules linked: the state
// `npm ci` leaves), no DATABASE_URL. The first start builds, runs initdb and migrates; later starts
// reuse all of it. Targets (issue 15): first ≤ 45 s, later ≤ 5 s.
//   node scripts/measure-start.mjs [later-starts=3]
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const later = Number(process.argv[2] ?? 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otp-measure-'));
fs.chmodSync(dir, 0o755); // as root, the embedded server's `postgres` user must reach .data/
const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: repo,
  encoding: 'utf8',
})
  .split('\0')
  .filter((f) => f && fs.existsSync(path.join(repo, f)));
for (const f of files) {
  fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
  fs.copyFileSync(path.join(repo, f), path.join(dir, f));
}
fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function timedStart() {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn('npm', ['start'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (process.env.MEASURE_VERBOSE) process.stderr.write(`[${since().toFixed(1)} s] stderr: ${d}`);
  });
  // When each phase ended, from the service's own lines: the build (and initdb) before "applying
  // migrations", the migration before the banner.
  const marks = {};
  const since = () => Number(process.hrtime.bigint() - started) / 1e9;
  child.stdout.on('data', (d) => {
    const text = d.toString();
    if (process.env.MEASURE_VERBOSE) process.stderr.write(`[${since().toFixed(1)} s] ${text}`);
    if (text.includes('applying migrations')) marks.migrating ??= since();
    if (text.includes('embedded development mode')) marks.banner ??= since();
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${stderr}`);
    if (Date.now() > deadline) throw new Error('not ready within 300 s');
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = since();
  child.kill('SIGTERM');
  await exited;
  return { seconds, ...marks };
}

try {
  const first = await timedStart();
  console.log(
    `first npm start (build + initdb + migrate) to ready: ${first.seconds.toFixed(1)} s (target ≤ 45 s)`,
  );
  if (first.migrating && first.banner) {
    console.log(
      `  build + initdb ${first.migrating.toFixed(1)} s, migrate ${(first.banner - first.migrating).toFixed(1)} s, ` +
        `service start ${(first.seconds - first.banner).toFixed(1)} s`,
    );
  }
  const times = [];
  for (let i = 0; i < later; i++) times.push((await timedStart()).seconds);
  times.sort((a, b) => a - b);
  console.log(
    `later npm start to ready: ${times.map((t) => t.toFixed(2)).join(', ')} s; median ${times[Math.floor(times.length / 2)].toFixed(2)} s (target ≤ 5 s)`,
  );
  console.log(
    `machine: ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; Node ${process.version}`,
  );
} finally {
  if (process.env.MEASURE_VERBOSE)
    process.stderr.write(fs.readFileSync(path.join(dir, '.data', 'postgres.log'), 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
}
