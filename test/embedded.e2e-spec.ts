import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { uniquePhone } from './helpers/db.js';
import { rememberCode, rememberKey } from './helpers/log-leaks.js';
import { freePort, logLinesOf, spawnCommand, waitForHttp, type ServiceProcess } from './helpers/process.js';
import { waitFor } from './helpers/wait.js';

// `npm start` as a newcomer runs it (docs/api.md A5): a clean checkout (the repository's files as
// they are in this working tree, node_modules linked, no dist/, no .env, no .data/), no
// DATABASE_URL, nothing in the environment but PATH and HOME. It builds, starts an embedded
// PostgreSQL, migrates it and serves; codes survive a restart; a killed service's server is
// stopped at the next start; SIGTERM leaves no postgres process behind.
const repo = process.cwd();
let checkout: string;

beforeAll(() => {
  checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'otp-checkout-'));
  // As root the embedded server runs as the `postgres` user, which must reach .data/postgres and
  // the server binaries in the repository's node_modules (linked below): a clone in a 0700
  // directory (mktemp -d) would hide them, so every directory above the repository gets o+x.
  fs.chmodSync(checkout, 0o755);
  if (process.getuid?.() === 0) {
    for (let dir = repo; dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const mode = fs.statSync(dir).mode;
      if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
    }
  }
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && fs.existsSync(path.join(repo, f)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
    fs.copyFileSync(path.join(repo, file), path.join(checkout, file));
  }
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(checkout, 'node_modules'));
});

afterAll(() => {
  // The test stopped everything it started; after a failure, stop what is left, then clean up.
  const kill = (pid: number, signal: NodeJS.Signals) => {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  };
  const owner = fs.existsSync(path.join(checkout, '.data', 'postgres-owner.pid'))
    ? Number.parseInt(fs.readFileSync(path.join(checkout, '.data', 'postgres-owner.pid'), 'utf8'), 10)
    : 0;
  if (owner > 0) kill(owner, 'SIGKILL');
  for (const pid of postgresPidsUnder(checkout)) kill(pid, 'SIGQUIT');
  fs.rmSync(checkout, { recursive: true, force: true });
});

/** Live `postgres` processes whose command line names a path under `dir` (Linux /proc). */
function postgresPidsUnder(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmd.includes('postgres') && cmd.includes(dir) && !cmd.includes('jest');
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function npmStart(): Promise<{ svc: ServiceProcess; url: string; key: string }> {
  const port = await freePort();
  const svc = spawnCommand(
    'npm',
    ['start'],
    { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(port) },
    port,
    checkout,
  );
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForHttp(`${url}/health/ready`, 170_000),
    svc.exited.then((code) => {
      throw new Error(`npm start exited (${code}):\n${[...svc.stdout, ...svc.stderr].slice(-20).join('\n')}`);
    }),
  ]);
  const keyLine = svc.stdout.find((l) => l.startsWith('api key:'));
  const key = /^api key:\s+(\S+)/.exec(keyLine ?? '')?.[1] ?? '';
  rememberKey(key);
  return { svc, url, key };
}

async function call(url: string, key: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The code the console provider printed for a send (its stderr lines after `from`). */
async function printedCode(svc: ServiceProcess, from: number): Promise<string> {
  const line = await waitFor(() => svc.stderr.slice(from).find((l) => /verification code is \d+/.test(l)), {
    timeoutMs: 15_000,
    what: 'the console provider to print the code',
  });
  const code = /verification code is (\d+)/.exec(line)![1];
  rememberCode(code);
  return code;
}

/** Signals the service and waits for it; the drain logs no warning (PostgreSQL stops last). */
async function stop(svc: ServiceProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  svc.child.kill(signal);
  await svc.exited;
  const drain = svc.stdout.slice(svc.stdout.findIndex((l) => l.includes('shutting down: draining')));
  expect(drain.filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level >= 40)).toEqual(
    [],
  );
}

describe('npm start with no DATABASE_URL: the embedded PostgreSQL', () => {
  it('builds, serves, keeps codes across a restart, recovers from a kill, and leaves no postgres behind', async () => {
    expect(fs.existsSync(path.join(checkout, '.env'))).toBe(false);
    expect(fs.existsSync(path.join(checkout, 'dist'))).toBe(false);

    // First start: build, initdb, migrate.
    const first = await npmStart();
    expect(first.svc.stdout).toContain('building first: dist/ is missing (npm run build)');
    expect(first.key).toMatch(/^dev_[A-Za-z0-9_-]{32}$/);
    expect(fs.readFileSync(path.join(checkout, '.data', 'development-key'), 'utf8').trim()).toBe(first.key);
    expect(postgresPidsUnder(path.join(checkout, '.data', 'postgres')).length).toBeGreaterThan(0);

    const [verifiedNow, verifiedLater] = [uniquePhone(), uniquePhone()];
    let from = first.svc.stderr.length;
    expect((await call(first.url, first.key, '/v1/otp/send', { phone: verifiedNow })).status).toBe(202);
    const code1 = await printedCode(first.svc, from);
    expect(
      await call(first.url, first.key, '/v1/otp/verify', { phone: verifiedNow, code: code1 }),
    ).toMatchObject({
      status: 200,
      body: { verified: true },
    });
    from = first.svc.stderr.length;
    expect((await call(first.url, first.key, '/v1/otp/send', { phone: verifiedLater })).status).toBe(202);
    const code2 = await printedCode(first.svc, from);

    // SIGTERM to npm: the service drains, then stops its PostgreSQL.
    await stop(first.svc);
    expect(postgresPidsUnder(checkout)).toEqual([]);

    // Second start: no build, no initdb; the code sent before the restart verifies.
    const second = await npmStart();
    expect(second.svc.stdout.join('\n')).not.toContain('building first');
    expect(second.key).toBe(first.key);
    // Start-up prints no warnings: nothing on stderr, no log line at warn or above, nothing outside
    // the logger but npm's own header and the banner; one start-up line naming the embedded database.
    await waitFor(() => second.svc.stdout.some((l) => l.includes('delivery worker started')), {
      what: 'the delivery worker to start',
    });
    const logLines = second.svc.stdout.filter((l) => l.startsWith('{'));
    expect({
      stderr: second.svc.stderr,
      warnings: logLines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40),
      unstructured: logLinesOf(second.svc).filter((l) => !l.startsWith('{') && !l.startsWith('> ')),
    }).toEqual({ stderr: [], warnings: [], unstructured: [] });
    expect(logLines.filter((l) => l.includes('listening on'))).toEqual([
      expect.stringMatching(
        /listening on http:\/\/127\.0\.0\.1:\d+ \| database: embedded PostgreSQL \d+\.\d+ on 127\.0\.0\.1:\d+, data in \.data\/postgres \| providers: console \| throttling store: memory/,
      ),
    ]);
    expect(
      await call(second.url, second.key, '/v1/otp/verify', { phone: verifiedLater, code: code2 }),
    ).toMatchObject({ status: 200, body: { verified: true } });

    // A killed service leaves its server running; the next start finds and stops it.
    const owner = Number(fs.readFileSync(path.join(checkout, '.data', 'postgres-owner.pid'), 'utf8'));
    process.kill(owner, 'SIGKILL');
    await second.svc.exited;
    const stale = postgresPidsUnder(path.join(checkout, '.data', 'postgres'));
    expect(stale.length).toBeGreaterThan(0);
    const third = await npmStart();
    expect(third.svc.stderr.join('\n')).toContain('stopping a server left running by an earlier run');
    const phone = uniquePhone();
    from = third.svc.stderr.length;
    expect((await call(third.url, third.key, '/v1/otp/send', { phone })).status).toBe(202);
    const code3 = await printedCode(third.svc, from);
    expect((await call(third.url, third.key, '/v1/otp/verify', { phone, code: code3 })).status).toBe(200);
    await stop(third.svc, 'SIGINT');
    expect(postgresPidsUnder(checkout)).toEqual([]);

    // A service that dies after its database started (here: a bad variable, found once the
    // embedded environment is filled in) takes the database with it. (Its CLIENT_API_KEYS
    // replaces the development key: the banner prints none.)
    const port = await freePort();
    const failing = spawnCommand(
      'npm',
      ['start'],
      {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOST: '127.0.0.1',
        PORT: String(port),
        OTP_TTL_SECONDS: '900',
      },
      port,
      checkout,
    );
    expect(await failing.exited).toBe(1);
    expect(failing.stderr.filter((l) => !l.startsWith('npm '))).toEqual([
      'Invalid configuration: OTP_TTL_SECONDS must be at most 600 (OWASP ASVS: codes live at most 10 minutes)',
    ]);
    await waitFor(() => postgresPidsUnder(checkout).length === 0, {
      what: 'the embedded PostgreSQL to stop',
    });
  }, 400_000);
});
