import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_KEY } from '../helpers/app.js';
import { uniquePhone } from '../helpers/db.js';
import { freePort, type ServiceProcess, spawnService, waitForHttp } from '../helpers/process.js';
import {
  codeIn,
  createIsolatedDb,
  type IsolatedDb,
  leaksIn,
  runReconcile,
  unfinished,
} from '../helpers/reliability.js';
import { waitFor } from '../helpers/wait.js';
import {
  type DnzAndEnoSend,
  type DnzFake,
  type EnoSendFake,
  providerEnvFor,
  startDnzAndEnoSend,
} from '../fakes/index.js';

// These tests run the production build (dist/main.bundle.mjs): `npm test` builds before the suites run
// (by hand: `npx tsc -p tsconfig.build.json`).

type Body = Record<string, unknown>;

describe('reliability: worker processes that die or are stopped', () => {
  let db: IsolatedDb;
  let fakes: DnzAndEnoSend;
  let dnz: DnzFake;
  let enosend: EnoSendFake;
  const started: ServiceProcess[] = [];
  const phones: string[] = [];

  beforeAll(async () => {
    db = await createIsolatedDb('proc');
    fakes = await startDnzAndEnoSend();
    ({ dnz, enosend } = fakes);
  }, 30_000);

  afterAll(async () => {
    for (const svc of started)
      if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
    await Promise.all(started.map((svc) => svc.exited.then(() => outputClosed(svc))));
    // Every process's logs (debug level) hold no code, key, Bearer value or full phone number.
    const codes = [...dnz.requests, ...enosend.sendRequests()].map(codeIn).filter(Boolean) as string[];
    const lines = started.flatMap((svc) => [...svc.stdout, ...svc.stderr]);
    expect(lines.length).toBeGreaterThan(20);
    expect(leaksIn(lines, { phones, codes })).toEqual([]);
    await fakes?.close();
    await db?.drop();
  });

  const spawn = async (env: Record<string, string>) => {
    const port = await freePort();
    const svc = spawnService({ DATABASE_URL: db.url, LOG_LEVEL: 'debug', ...env }, port);
    started.push(svc);
    await waitForHttp(`${svc.url}/health/live`, 15_000);
    return svc;
  };
  // Nest closes the app on SIGTERM, then re-raises the signal: the exit is "killed by SIGTERM"
  // (a crash would be an exit code). That the close was graceful shows in what the tests check:
  // no request cut off, no job left locked. (The last log lines before the re-raised signal may
  // be lost: pino writes asynchronously; so they are not asserted.)
  const outputClosed = (svc: ServiceProcess) =>
    new Promise<void>((resolve) => {
      const out = svc.child.stdout;
      if (!out || out.closed) resolve();
      else out.once('close', () => resolve());
    });
  const expectGracefulExit = async (svc: ServiceProcess) => {
    await svc.exited;
    await outputClosed(svc);
    expect([svc.child.exitCode, svc.child.signalCode]).toEqual([null, 'SIGTERM']);
    expect(svc.stdout.some((l) => l.includes('"level":50'))).toBe(false);
  };
  const stopGracefully = async (svc: ServiceProcess) => {
    svc.child.kill('SIGTERM');
    await expectGracefulExit(svc);
  };
  const send = (svc: ServiceProcess, phone: string) =>
    fetch(`${svc.url}/v1/otp/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ phone }),
    });
  const jobOf = (id: string) =>
    db.query<{ locked_at: Date | null; locked_by: string | null; stale: boolean }>(
      `SELECT locked_at, locked_by, locked_at < now() - interval '2 seconds' AS stale FROM graphile_worker.jobs WHERE key = $1`,
      [id],
    );

  it('the bundle logs under the class names of the source (esbuild keeps them), from the API and the worker', async () => {
    dnz.reset();
    const svc = await spawn(providerEnvFor({ dnz }, { chain: ['dnz'] }));
    const phone = uniquePhone();
    phones.push(phone);
    expect((await send(svc, phone)).status).toBe(202);
    await waitFor(() => dnz.requests.some((r) => (r.json as Body)?.number === phone), { what: 'DNZ got it' });
    await stopGracefully(svc);
    const contexts = new Set(
      svc.stdout.map((l) => (JSON.parse(l) as { context?: string }).context).filter(Boolean),
    );
    // esbuild renames a class whose name another bundled module also uses (without keepNames,
    // DeliveryService became DeliveryService2), and Nest's loggers report `Class.name`.
    for (const name of ['OtpService', 'DeliveryService', 'DeliveryWorker', 'NestApplication'])
      expect([...contexts]).toContain(name);
    expect([...contexts].filter((c) => /\d$/.test(c as string))).toEqual([]);
  });

  it('kill -9 with a send in flight and a second provider: released after the lock timeout, the in-doubt attempt goes out through the next provider first', async () => {
    fakes.reset();
    dnz.behave('hang');
    const a = await spawn({
      ...providerEnvFor({ dnz }, { chain: ['dnz'], timeoutMs: 30_000 }),
      DELIVERY_LOCK_TIMEOUT_SECONDS: '2',
    });
    const phone = uniquePhone();
    phones.push(phone);
    const res = await send(a, phone);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    // DNZ has the message and holds the request open: the job is claimed and in flight.
    await waitFor(() => dnz.requests.some((r) => (r.json as Body)?.number === phone), {
      what: 'DNZ got the send',
    });
    a.child.kill('SIGKILL');
    expect(await a.exited).toBeNull();
    dnz.dropPending();
    dnz.behave('ok');

    const attempts = () =>
      db.query<{ provider: string; outcome: string }>(
        'SELECT provider, outcome::text FROM delivery_attempts WHERE code_id = $1 ORDER BY created_at',
        [id],
      );
    expect(await attempts()).toEqual([{ provider: 'dnz', outcome: 'in_flight' }]);
    // The dead worker's lock is still on the job; it becomes stale after DELIVERY_LOCK_TIMEOUT_SECONDS.
    const [job] = await jobOf(id);
    expect(job.locked_at).not.toBeNull();
    await waitFor(async () => (await jobOf(id))[0]?.stale, { timeoutMs: 5000, what: 'a stale lock' });

    const b = await spawn({
      ...fakes.env({ chain: ['dnz', 'enosend'], timeoutMs: 1000, statusPollMs: 1500 }),
      DELIVERY_LOCK_TIMEOUT_SECONDS: '2',
    });
    await waitFor(
      async () => {
        const rows = await db.query<{ delivery_status: string }>(
          'SELECT delivery_status::text FROM one_time_codes WHERE id = $1',
          [id],
        );
        return ['sent', 'delivered'].includes(rows[0]?.delivery_status) ? rows[0] : undefined;
      },
      { timeoutMs: 15_000, what: 'delivery by the second process' },
    );
    await waitFor(async () => (await jobOf(id)).length === 0, { what: 'the job to be gone' });
    expect(await attempts()).toEqual([
      { provider: 'dnz', outcome: 'in_doubt' },
      { provider: 'enosend', outcome: 'sent' },
    ]);
    const toDnz = dnz.requests.filter((r) => (r.json as Body)?.number === phone);
    const toEnoSend = enosend.sendRequests().filter((r) => (r.json as Body)?.number === phone.slice(1));
    expect(toDnz).toHaveLength(1);
    expect(toEnoSend).toHaveLength(1);
    // The same digits (never new ones for an attempt in doubt).
    expect(codeIn(toEnoSend[0])).toBe(codeIn(toDnz[0]));
    expect(await unfinished(db, { ids: [id] })).toEqual([]);
    await stopGracefully(b);
  }, 45_000);

  /**
   * A fault hook for DELIVERY_TEST_FAULT_HOOK_URL: the worker POSTs to it once an attempt is
   * recorded, before its provider request leaves, and waits for the answer; `onHit` runs there
   * (the test kills the process) and no answer is ever sent.
   */
  const faultHook = async (onHit: (body: Body) => void) => {
    const hits: Body[] = [];
    const server: Server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as Body;
        hits.push(body);
        onHit(body);
        res.on('error', () => undefined);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fault`;
    const close = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    return { url, hits, close };
  };
  const codeRow = async (id: string) =>
    (
      await db.query<{ delivery_status: string; code_hash: string; delivery_error: string | null }>(
        'SELECT delivery_status::text, code_hash, delivery_error FROM one_time_codes WHERE id = $1',
        [id],
      )
    )[0];
  const attemptsOf = (id: string) =>
    db.query<{ provider: string; outcome: string }>(
      'SELECT provider, outcome::text FROM delivery_attempts WHERE code_id = $1 ORDER BY created_at',
      [id],
    );
  const verify = (svc: ServiceProcess, phone: string, code: string) =>
    fetch(`${svc.url}/v1/otp/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ phone, code }),
    });

  it('one provider, kill -9 after the attempt is recorded and before the request leaves: after a restart with default settings the same code goes out through the same provider within 30 s and verifies', async () => {
    dnz.reset();
    let killedAt = 0;
    let a: ServiceProcess | undefined;
    const hook = await faultHook(() => {
      killedAt = Date.now();
      a?.child.kill('SIGKILL');
    });
    try {
      // Default DELIVERY_LOCK_TIMEOUT_SECONDS: the recovery time measured here is the operator's.
      a = await spawn({
        ...providerEnvFor({ dnz }, { chain: ['dnz'] }),
        DELIVERY_TEST_FAULT_HOOK_URL: hook.url,
      });
      const phone = uniquePhone();
      phones.push(phone);
      const res = await send(a, phone);
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      expect(await a.exited).toBeNull();
      expect(hook.hits).toEqual([{ point: 'attempt_recorded', codeId: id, provider: 'dnz' }]);
      // The attempt is recorded, the request never left, the job is still locked by the dead worker.
      expect(dnz.requests).toHaveLength(0);
      expect(await attemptsOf(id)).toEqual([{ provider: 'dnz', outcome: 'in_flight' }]);
      expect((await jobOf(id))[0]?.locked_at).not.toBeNull();
      const before = await codeRow(id);

      const b = await spawn(providerEnvFor({ dnz }, { chain: ['dnz'] }));
      const request = await waitFor(() => dnz.requests.find((r) => (r.json as Body)?.number === phone), {
        timeoutMs: 40_000,
        intervalMs: 100,
        what: 'the same code through DNZ after the restart',
      });
      const recoveryMs = request.receivedAt - killedAt;
      console.log(
        `recovery after kill -9 (default DELIVERY_LOCK_TIMEOUT_SECONDS): ${(recoveryMs / 1000).toFixed(1)} s from the kill to the provider`,
      );
      // The figure is printed for docs/reliability.md, not asserted (no timing assertions in tests);
      // the bounded wait above is what fails when the code never arrives.
      await waitFor(async () => (await codeRow(id)).delivery_status === 'sent', { what: 'sent' });
      await waitFor(async () => (await jobOf(id)).length === 0, { what: 'the job to be gone' });
      expect(await attemptsOf(id)).toEqual([
        { provider: 'dnz', outcome: 'in_doubt' },
        { provider: 'dnz', outcome: 'sent' },
      ]);
      // The same digits: the stored keyed hash never changed, and the code DNZ got verifies.
      expect((await codeRow(id)).code_hash).toBe(before.code_hash);
      expect(dnz.requests.filter((r) => (r.json as Body)?.number === phone)).toHaveLength(1);
      expect((await verify(b, phone, codeIn(request) as string)).status).toBe(200);
      await stopGracefully(b);
    } finally {
      await hook.close();
    }
  }, 90_000);

  it('kill -9 with DELIVERY_CONCURRENCY sends in flight through one provider: each is repeated at most once (same digits), every other send goes out once, none ends failed', async () => {
    dnz.reset();
    dnz.behave('hang');
    const env = {
      ...providerEnvFor({ dnz }, { chain: ['dnz'], timeoutMs: 30_000 }),
      DELIVERY_CONCURRENCY: '3',
      DELIVERY_LOCK_TIMEOUT_SECONDS: '2',
    };
    const a = await spawn(env);
    const batch = Array.from({ length: 8 }, () => uniquePhone());
    phones.push(...batch);
    const ids: string[] = [];
    for (const phone of batch) {
      const res = await send(a, phone);
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    await waitFor(() => dnz.requests.length >= 3, { what: 'three sends in flight' });
    a.child.kill('SIGKILL');
    await a.exited;
    const inFlight = dnz.requests.length;
    expect(inFlight).toBe(3);
    dnz.dropPending();
    dnz.behave('ok');

    const b = await spawn(env);
    await waitFor(async () => (await unfinished(db, { ids })).length === 0, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'every send to go out',
    });
    const rows = await db.query<{ delivery_status: string }>(
      'SELECT delivery_status::text FROM one_time_codes WHERE id = ANY($1)',
      [ids],
    );
    expect(rows.map((r) => r.delivery_status)).toEqual(ids.map(() => 'sent'));
    const perPhone = batch.map((phone) => dnz.requests.filter((r) => (r.json as Body)?.number === phone));
    // Repeated: exactly the sends in flight at the kill (at most DELIVERY_CONCURRENCY), with the same digits.
    const repeated = perPhone.filter((requests) => requests.length > 1);
    expect(repeated).toHaveLength(inFlight);
    expect(perPhone.every((requests) => requests.length <= 2)).toBe(true);
    for (const requests of repeated) expect(codeIn(requests[1])).toBe(codeIn(requests[0]));
    // And the repeated digits verify.
    const first = batch.findIndex((_, i) => perPhone[i].length === 2);
    expect((await verify(b, batch[first], codeIn(perPhone[first][1]) as string)).status).toBe(200);
    await stopGracefully(b);
  }, 60_000);

  /** Every DNZ answer takes `delayMs`; locks not renewed for 2 s are released (by any replica). */
  const slowProviderEnv = (delayMs: number) => {
    dnz.reset();
    dnz.behave({ delayMs });
    return {
      ...providerEnvFor({ dnz }, { chain: ['dnz'], timeoutMs: delayMs + 4000 }),
      DELIVERY_LOCK_TIMEOUT_SECONDS: '2',
    };
  };
  /** A send through `svc` that must be accepted; its code's id. */
  const acceptedSend = async (svc: ServiceProcess, phone: string) => {
    phones.push(phone);
    const res = await send(svc, phone);
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };

  it('a delivery that takes longer than DELIVERY_LOCK_TIMEOUT_SECONDS is never taken twice while its process lives (its lease is renewed), with a second replica waiting', async () => {
    const env = slowProviderEnv(5000);
    const a = await spawn(env);
    const b = await spawn(env);
    const phone = uniquePhone();
    const id = await acceptedSend(a, phone);
    await waitFor(async () => (await codeRow(id))?.delivery_status === 'sent', {
      timeoutMs: 15_000,
      what: 'the slow delivery',
    });
    await waitFor(async () => (await jobOf(id)).length === 0, { what: 'the job to be gone' });
    expect(dnz.requests.filter((r) => (r.json as Body)?.number === phone)).toHaveLength(1);
    expect(await attemptsOf(id)).toEqual([{ provider: 'dnz', outcome: 'sent' }]);
    await Promise.all([stopGracefully(a), stopGracefully(b)]);
  }, 40_000);

  it('nor while its process drains after SIGTERM: the lease is renewed until the job ends, so the waiting replica never takes it', async () => {
    const env = slowProviderEnv(8000);
    const a = await spawn(env);
    const phone = uniquePhone();
    const id = await acceptedSend(a, phone);
    // a holds the job (the provider has the request), then a second replica starts and a drains.
    await waitFor(() => dnz.requests.some((r) => (r.json as Body)?.number === phone), { what: 'DNZ got it' });
    const b = await spawn(env);
    const lockOf = async () => {
      const [job] = await jobOf(id);
      return job && { locked_by: job.locked_by, fresh: job.stale === false };
    };
    const holder = (await lockOf())?.locked_by;
    expect(holder).toEqual(expect.any(String));
    a.child.kill('SIGTERM');
    // Past the lock timeout and a lease period of b's, well before the provider answers.
    await new Promise((r) => setTimeout(r, 3500));
    expect(await lockOf()).toEqual({ locked_by: holder, fresh: true });
    await expectGracefulExit(a);
    await waitFor(async () => (await codeRow(id))?.delivery_status === 'sent', { what: 'the slow delivery' });
    expect(dnz.requests.filter((r) => (r.json as Body)?.number === phone)).toHaveLength(1);
    expect(await attemptsOf(id)).toEqual([{ provider: 'dnz', outcome: 'sent' }]);
    await stopGracefully(b);
  }, 45_000);

  it('SIGTERM under load: in-flight requests finish, held jobs finish or are released, exit within 10 s; a second instance finishes the rest', async () => {
    fakes.reset();
    // Each provider call takes 400 ms, so jobs are in the worker's hands when SIGTERM arrives.
    dnz.behave({ delayMs: 400 });
    const env = {
      ...providerEnvFor({ dnz }, { chain: ['dnz'], timeoutMs: 3000 }),
      DELIVERY_CONCURRENCY: '4',
      DELIVERY_LOCK_TIMEOUT_SECONDS: '30',
    };
    const a = await spawn(env);
    const batch = Array.from({ length: 40 }, () => uniquePhone());
    phones.push(...batch);
    const inFlight = batch.map((phone, i) =>
      new Promise((r) => setTimeout(r, i * 15))
        .then(() => send(a, phone))
        .then((r) => r.status)
        .catch(() => 'connection-error' as const),
    );
    await waitFor(() => dnz.requests.length >= 2, { what: 'jobs in flight' });
    const termAt = Date.now();
    a.child.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    await a.exited;
    expect(Date.now() - termAt).toBeLessThan(10_000);
    await expectGracefulExit(a);

    // Every send the server stored got its 202; requests refused while closing stored nothing.
    const stored = await db.query<{ id: string; phone: string }>(
      'SELECT id::text, phone FROM one_time_codes WHERE phone = ANY($1)',
      [batch],
    );
    const storedPhones = new Set(stored.map((r) => r.phone));
    expect(storedPhones.size).toBeGreaterThan(0);
    batch.forEach((phone, i) => {
      if (storedPhones.has(phone)) expect([phone, statuses[i]]).toEqual([phone, 202]);
      else expect([phone, statuses[i]]).toEqual([phone, expect.not.stringMatching(/^202$/)]);
    });
    expect(statuses).not.toContain(500);
    // The stopped worker holds no job: what it had in hand finished, the rest was never taken.
    const locked = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_at IS NOT NULL',
    );
    expect(locked[0].n).toBe(0);
    const leftover = (await unfinished(db, { phones: batch })).length;

    dnz.behave('ok');
    await spawn(env);
    await waitFor(async () => (await unfinished(db, { phones: batch })).length === 0, {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'the second instance to finish the queue',
    });
    const finished = await db.query<{ phone: string; delivery_status: string }>(
      'SELECT phone, delivery_status::text FROM one_time_codes WHERE phone = ANY($1)',
      [batch],
    );
    expect(finished.every((r) => r.delivery_status === 'sent')).toBe(true);
    // Each stored send reached DNZ exactly once, across both instances.
    for (const phone of storedPhones) {
      expect([phone, dnz.requests.filter((r) => (r.json as Body)?.number === phone).length]).toEqual([
        phone,
        1,
      ]);
    }
    console.log(`SIGTERM test: ${storedPhones.size} stored, ${leftover} left for the second instance`);
    expect(runReconcile(db.url, 0)).toMatchObject({ status: 0, lines: [] });
  }, 60_000);
});
