import { startApp, type TestApp } from '../helpers/app.js';
import { uniquePhone } from '../helpers/db.js';
import { createIsolatedDb, type IsolatedDb } from '../helpers/reliability.js';
import { waitFor } from '../helpers/wait.js';
import { type DnzFake, providerEnvFor, startDnzFake } from '../fakes/index.js';

type Body = Record<string, unknown>;

/**
 * A newer graphile-worker (the next version of this service, in a rolling upgrade) migrates the
 * queue schema with a migration it marks breaking, and announces it (NOTIFY "worker:migrate").
 * graphile-worker 0.16 then shuts its workers down gracefully and sets process.exitCode = 57,
 * written for a process that is only a worker. Here the process also serves the API: the runner's
 * promise resolved, nothing restarted it and nothing was logged above warn, so this replica went on
 * accepting codes it never delivered, even once the schema allowed it to run again.
 */
describe('reliability: a newer worker announces a breaking queue-schema migration', () => {
  let db: IsolatedDb;
  let dnz: DnzFake;
  let t: TestApp;
  const exitCodeBefore = process.exitCode;

  beforeAll(async () => {
    db = await createIsolatedDb('breaking');
    dnz = await startDnzFake();
  }, 30_000);

  afterAll(async () => {
    process.exitCode = exitCodeBefore;
    await t?.close();
    await dnz?.close();
    await db?.drop();
  });

  const delivered = (phone: string) => dnz.requests.some((r) => (r.json as Body)?.number === phone);
  const lines = (text: string) => t.logs.filter((l) => l.includes(text)).map((l) => JSON.parse(l) as Body);
  const startWorkerApp = (env: Record<string, string> = {}) =>
    startApp({
      env: {
        ...providerEnvFor({ dnz }, { chain: ['dnz'], timeoutMs: 2000 }),
        DATABASE_URL: db.url,
        DELIVERY_CONCURRENCY: '2',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
        ...env,
      },
    });

  it('says so at error level, delivers nothing while the schema is newer, and delivers again once it is not', async () => {
    t = await startWorkerApp();
    // graphile-worker subscribes after it says it started: a notice sent before it listens is lost.
    await waitFor(
      async () =>
        (
          await db.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN "jobs:insert"%'`,
          )
        ).length > 0,
      { what: 'the delivery worker to listen for notices' },
    );

    // What the newer version's migrate leaves behind: a breaking revision this worker does not know.
    await db.query('INSERT INTO graphile_worker.migrations (id, breaking) VALUES (9999, true)');
    await db.query(`SELECT pg_notify('worker:migrate', '{"migrationNumber":9999,"breaking":true}')`);
    await waitFor(() => lines('queue schema').length > 0, {
      timeoutMs: 15_000,
      what: 'the worker to say it stopped for a newer queue schema',
    });
    // Through the notice, at once (the lease's own check, test below, would take up to 5 s here).
    expect(lines('queue schema')[0]).toMatchObject({ level: 50, msg: expect.stringContaining('announced') });

    // The API still takes codes; this replica must not deliver them with a schema it cannot run.
    const during = uniquePhone();
    expect((await t.request('POST', '/v1/otp/send', { body: { phone: during } })).status).toBe(202);
    // Its restarts (every 2 s) meet graphile-worker's own schema check, which refuses: said at
    // error level, once (then once a minute), and nothing goes out meanwhile.
    await waitFor(() => lines('older than the queue schema').length > 0, {
      timeoutMs: 15_000,
      what: "the restarted worker to say graphile-worker's schema check refused it",
    });
    await new Promise((r) => setTimeout(r, 2500)); // time for another refused start, said no more
    expect(delivered(during)).toBe(false);
    const refusals = lines('older than the queue schema');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      level: 50,
      reason: expect.stringContaining('breaking migration 9999'),
    });

    // The schema is one this worker can run again (here: the revision is gone): it picks up the
    // code accepted meanwhile without a restart of the process, and sends new ones.
    await db.query('DELETE FROM graphile_worker.migrations WHERE id = 9999');
    const after = uniquePhone();
    expect((await t.request('POST', '/v1/otp/send', { body: { phone: after } })).status).toBe(202);
    await waitFor(() => delivered(during) && delivered(after), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'both codes at the provider once the worker can run again',
    });
    // graphile-worker's exit code for a worker-only process is not this process's to keep.
    expect(process.exitCode).not.toBe(57);
  }, 60_000);

  it('finds the newer revision without the notice (lost while graphile-worker reconnected its listener)', async () => {
    await t?.close();
    // The lease ticks every third of this: 1 s.
    t = await startWorkerApp({ DELIVERY_LOCK_TIMEOUT_SECONDS: '3' });
    await waitFor(() => lines('delivery worker started').length > 0, {
      what: 'the delivery worker to start',
    });

    // The newer version's migrate ran, and its notice never arrived here.
    await db.query('INSERT INTO graphile_worker.migrations (id, breaking) VALUES (9999, true)');
    await waitFor(() => lines('older than the queue schema').length > 0, {
      timeoutMs: 15_000,
      what: 'the worker to find the newer breaking revision by itself',
    });
    expect(lines('queue schema')[0]).toMatchObject({
      level: 50,
      msg: expect.stringContaining('newer than this worker started with'),
    });
    const during = uniquePhone();
    expect((await t.request('POST', '/v1/otp/send', { body: { phone: during } })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 2500));
    expect(delivered(during)).toBe(false);

    await db.query('DELETE FROM graphile_worker.migrations WHERE id = 9999');
    await waitFor(() => delivered(during), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the code at the provider once the worker can run again',
    });
  }, 60_000);
});
