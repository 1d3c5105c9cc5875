import { startApp, type TestApp } from './helpers/app.js';
import { uniquePhone } from './helpers/db.js';
import { createIsolatedDb, type IsolatedDb } from './helpers/reliability.js';
import { waitFor } from './helpers/wait.js';
import {
  type DnzFake,
  type EnoSendFake,
  providerEnvFor,
  type RecordedRequest,
  type SinchFake,
  startDnzFake,
  startEnoSendFake,
  startSinchFake,
} from './fakes/index.js';

type Body = Record<string, unknown>;
type ProviderName = 'dnz' | 'enosend' | 'sinch';

/**
 * Provider back-pressure (API.md Decision 7): a provider's Retry-After (seconds or an HTTP date)
 * or rate-limit answer reschedules the send through the queue (a later run_at), never sooner
 * than asked and never by sleeping inside the job; a provider-wide limit pauses the provider for
 * every code; a code that would expire first falls back instead. Its own database: pauses live
 * in provider_states, which other files' workers read.
 */
describe('delivery: provider back-pressure (Retry-After, rate limits)', () => {
  let db: IsolatedDb;
  let dnz: DnzFake;
  let enosend: EnoSendFake;
  let sinch: SinchFake;
  let t: TestApp | undefined;

  beforeAll(async () => {
    db = await createIsolatedDb('backpressure');
    // Every fake's `rate_limited` answer carries Retry-After: 2 (seconds).
    dnz = await startDnzFake({ retryAfterSeconds: 2 });
    enosend = await startEnoSendFake({ retryAfterSeconds: 2 });
    sinch = await startSinchFake({ retryAfterSeconds: 2 });
  }, 30_000);
  afterAll(async () => {
    await dnz?.close();
    await enosend?.close();
    await sinch?.close();
    await db?.drop();
  });
  beforeEach(async () => {
    dnz.reset();
    enosend.reset();
    sinch.reset();
    // Kept as SQL: a reset between tests (pauses); no owner offers a delete.
    await db.query('DELETE FROM provider_states');
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (chain: ProviderName[]) => {
    t = await startApp({
      env: {
        ...providerEnvFor({ dnz, enosend, sinch }, { chain, timeoutMs: 1000, statusPollMs: 0 }),
        DATABASE_URL: db.url,
        DELIVERY_RETRIES: '2',
        DELIVERY_RETRY_BASE_MS: '10',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
      },
    });
    return t;
  };
  const sendsTo = (provider: ProviderName, phone: string): RecordedRequest[] => {
    if (provider === 'dnz') return dnz.requests.filter((r) => (r.json as Body)?.number === phone);
    if (provider === 'enosend')
      return enosend.sendRequests().filter((r) => (r.json as Body)?.number === phone.slice(1));
    return sinch.sendRequests().filter((r) => JSON.stringify(r.json).includes(`"identity":"${phone}"`));
  };
  const send = async (app: TestApp, phone: string) => {
    const res = await app.request<Body>('POST', '/v1/otp/send', { body: { phone } });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const delivery = async (id: string) =>
    (
      await db.query<{
        delivery_status: string;
        delivery_error: string | null;
        delivery_provider: string | null;
      }>(
        'SELECT delivery_status::text, delivery_error, delivery_provider FROM one_time_codes WHERE id = $1',
        [id],
      )
    )[0];
  const settled = (id: string, timeoutMs = 10_000) =>
    waitFor(
      async () => {
        const row = await delivery(id);
        return row.delivery_status !== 'queued' ? row : undefined;
      },
      { timeoutMs, intervalMs: 50, what: `delivery of ${id}` },
    );
  const attempts = (id: string) =>
    db.query<{ provider: string; outcome: string; error_code: string | null }>(
      'SELECT provider, outcome, error_code FROM delivery_attempts WHERE code_id = $1 ORDER BY created_at',
      [id],
    );
  const pausedUntil = async (provider: string) =>
    (
      await db.query<{ paused_until: Date | null }>(
        'SELECT paused_until FROM provider_states WHERE provider = $1',
        [provider],
      )
    )[0]?.paused_until;

  it.each(['dnz', 'enosend', 'sinch'] as const)(
    '%s answers 429 with Retry-After: 2: the provider is paused, the send is rescheduled through the queue and asked again no earlier, once',
    async (provider) => {
      const fake = { dnz, enosend, sinch }[provider];
      fake.queue('rate_limited');
      const app = await start([provider]);
      const phone = uniquePhone();
      const id = await send(app, phone);
      const first = await waitFor(() => sendsTo(provider, phone)[0], { what: 'the first try' });
      // While it waits the job is back in the queue with a later run time and holds no lock (no
      // worker sleeps on it), and the provider is paused for every code.
      const job = await waitFor(
        async () =>
          (
            await db.query<{ run_at: Date; locked_at: Date | null }>(
              'SELECT run_at, locked_at FROM graphile_worker.jobs WHERE key = $1',
              [id],
            )
          ).find((j) => j.locked_at === null && j.run_at.getTime() > first.receivedAt),
        { what: 'the rescheduled job' },
      );
      expect(job.run_at.getTime()).toBeGreaterThanOrEqual(first.receivedAt + 2000 - 50);
      expect((await pausedUntil(provider))?.getTime()).toBeGreaterThanOrEqual(first.receivedAt + 2000 - 50);

      const row = await settled(id);
      expect(row).toMatchObject({ delivery_status: 'sent', delivery_provider: provider });
      const tries = sendsTo(provider, phone);
      // One try before the wait (no retries within the job), one after it.
      expect(tries).toHaveLength(2);
      expect(tries[1].receivedAt - tries[0].receivedAt).toBeGreaterThanOrEqual(2000 - 50);
      expect((await attempts(id)).map((a) => [a.provider, a.outcome])).toEqual([
        [provider, 'rate_limited_error'],
        [provider, 'sent'],
      ]);
    },
    20_000,
  );

  it('a Retry-After given as an HTTP date is honoured too', async () => {
    const at = new Date(Date.now() + 4000);
    dnz.queue({
      status: 429,
      body: { error: 'rate_limited', message: 'Too many requests' },
      headers: { 'retry-after': at.toUTCString() },
    });
    const app = await start(['dnz']);
    const phone = uniquePhone();
    const id = await send(app, phone);
    expect(await settled(id)).toMatchObject({ delivery_status: 'sent', delivery_provider: 'dnz' });
    const tries = sendsTo('dnz', phone);
    expect(tries).toHaveLength(2);
    // The date has whole seconds: the second try comes no earlier than that second.
    expect(tries[1].receivedAt).toBeGreaterThanOrEqual(Math.floor(at.getTime() / 1000) * 1000 - 50);
  }, 20_000);

  it('a wait longer than the code has to live falls back to the next provider at once; the paused provider is skipped by the next codes', async () => {
    // 429 with Retry-After: 3600 (the code lives 300 s).
    dnz.queue({ status: 429, body: { error: 'rate_limited' }, headers: { 'retry-after': '3600' } });
    const app = await start(['dnz', 'enosend']);
    const phone = uniquePhone();
    const id = await send(app, phone);
    expect(await settled(id)).toMatchObject({ delivery_status: 'sent', delivery_provider: 'enosend' });
    expect(sendsTo('dnz', phone)).toHaveLength(1);
    expect(sendsTo('enosend', phone)).toHaveLength(1);
    expect((await pausedUntil('dnz'))!.getTime()).toBeGreaterThan(Date.now() + 3000_000);

    const next = uniquePhone();
    const nextId = await send(app, next);
    expect(await settled(nextId)).toMatchObject({ delivery_status: 'sent', delivery_provider: 'enosend' });
    expect(sendsTo('dnz', next)).toHaveLength(0);
    expect((await attempts(nextId)).map((a) => [a.provider, a.outcome, a.error_code])).toEqual([
      ['dnz', 'skipped', 'rate_limited'],
      ['enosend', 'sent', null],
    ]);
  }, 20_000);

  it('with one provider and a wait longer than the code has to live, delivery fails as rate_limited after one try (no retries in a burst)', async () => {
    dnz.behave({ status: 429, body: { error: 'rate_limited' }, headers: { 'retry-after': '600' } });
    const app = await start(['dnz']);
    const phone = uniquePhone();
    const id = await send(app, phone);
    expect(await settled(id)).toMatchObject({ delivery_status: 'failed', delivery_error: 'rate_limited' });
    expect(sendsTo('dnz', phone)).toHaveLength(1);
  }, 20_000);
});
