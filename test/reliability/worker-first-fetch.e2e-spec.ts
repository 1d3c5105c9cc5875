import pg from 'pg';
import { startApp, type TestApp } from '../helpers/app.js';
import { uniquePhone } from '../helpers/db.js';
import { createIsolatedDb, type IsolatedDb } from '../helpers/reliability.js';
import { waitFor } from '../helpers/wait.js';
import { type DnzFake, providerEnvFor, startDnzFake } from '../fakes/index.js';

type Body = Record<string, unknown>;

/**
 * graphile-worker 0.16 reads the ids of the tasks it runs once per runner, at the first job fetch,
 * and keeps that read as a promise. When the read fails (the database went away at that instant:
 * a pod starting during a failover; seen in the database-cut test on a loaded machine), the
 * rejected promise stays cached, and every later fetch fails with the same error for the life of
 * the runner: codes are accepted and never delivered, with nothing above debug level in the logs.
 * The read is made to fail here on purpose: the table it reads is locked past the statement timeout.
 */
describe('reliability: a database fault at the worker’s first job fetch', () => {
  let db: IsolatedDb;
  let dnz: DnzFake;
  let t: TestApp;
  let locker: pg.Client;

  beforeAll(async () => {
    db = await createIsolatedDb('firstfetch');
    dnz = await startDnzFake();
    locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
  }, 30_000);

  afterAll(async () => {
    await t?.close();
    await locker?.end().catch(() => undefined);
    await dnz?.close();
    await db?.drop();
  });

  it('does not stall delivery for the life of the process: the worker starts afresh and delivers', async () => {
    // The worker's read of its task ids waits on this lock until DATABASE_STATEMENT_TIMEOUT_MS.
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE graphile_worker._private_tasks IN ACCESS EXCLUSIVE MODE');
    t = await startApp({
      env: {
        ...providerEnvFor({ dnz }, { chain: ['dnz'], timeoutMs: 1000 }),
        DATABASE_URL: db.url,
        DATABASE_STATEMENT_TIMEOUT_MS: '1000',
        DELIVERY_CONCURRENCY: '2',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
      },
    });
    await waitFor(() => t.logs.some((l) => l.includes('Failed to acquire job')), {
      timeoutMs: 15_000,
      what: 'a failed job fetch while the task table is locked',
    });
    await locker.query('COMMIT');

    // The database is fine again: a code sent now reaches the provider.
    const phone = uniquePhone();
    const res = await t.request<Body>('POST', '/v1/otp/send', { body: { phone } });
    expect(res.status).toBe(202);
    await waitFor(() => dnz.requests.some((r) => (r.json as Body)?.number === phone), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the provider to receive the code sent after the fault',
    });
    // Said at error level: an operator sees why the worker restarted, and when it starts again.
    const restarts = t.logs
      .filter((l) => l.includes('cannot read its task ids'))
      .map((l) => JSON.parse(l) as Body);
    expect(restarts[0]).toMatchObject({ level: 50, restartInMs: 2000 });
  }, 60_000);
});
