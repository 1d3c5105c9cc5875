import { startApp, type TestApp } from './helpers/app.js';
import { uniquePhone, withDb } from './helpers/db.js';
import { codeIn } from './helpers/reliability.js';
import { waitFor } from './helpers/wait.js';
import { optOut } from './helpers/delivery-state.js';
import { queuedJob } from './helpers/queue.js';
import { OtpCrypto } from '../src/codes/otp.crypto.js';
import { PrismaService } from '../src/prisma/prisma.service.js';
import { type DnzAndEnoSend, type DnzFake, type EnoSendFake, startDnzAndEnoSend } from './fakes/index.js';

type Body = Record<string, unknown>;

const TEST_NUMBER = '+233249999001';

describe('delivery: queue, providers, fallback', () => {
  let fakes: DnzAndEnoSend;
  let dnz: DnzFake;
  let enosend: EnoSendFake;
  let t: TestApp;

  beforeAll(async () => {
    fakes = await startDnzAndEnoSend();
    ({ dnz, enosend } = fakes);
    t = await startApp({
      env: {
        ...fakes.env({ chain: ['dnz', 'enosend'], timeoutMs: 400, statusPollMs: 400 }),
        DELIVERY_RETRIES: '1',
        DELIVERY_RETRY_BASE_MS: '10',
        DELIVERY_CIRCUIT_THRESHOLD: '1000',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
        OTP_TEST_NUMBERS: JSON.stringify({ [TEST_NUMBER]: '246810' }),
        OTP_TEST_NUMBERS_ENABLED: 'true',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await fakes?.close();
  });
  beforeEach(async () => {
    dnz.behave('ok');
    enosend.behave('ok');
    enosend.statuses('delivered');
    dnz.clearRequests();
    enosend.clearRequests();
    // Kept as SQL: a reset between tests (misconfigured marks, pauses); no owner offers a delete.
    await withDb((db) => db.query('DELETE FROM provider_states'));
  });

  const send = (phone: string) => t.request<Body>('POST', '/v1/otp/send', { body: { phone } });
  const status = (id: string) => t.request<Body>('GET', `/v1/otp/${id}`).then((r) => r.body);
  const settled = (id: string) =>
    waitFor(
      async () => {
        const s = await status(id);
        const d = s.delivery as { status: string };
        return d.status !== 'queued' ? s : undefined;
      },
      { what: `delivery of ${id}` },
    );
  const jobFor = (id: string) => queuedJob(id).then((job) => (job ? 1 : 0));

  it('hands the code to the first provider; the code that arrives verifies; no job (and no ciphertext) is left', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const view = await settled(body.id as string);
    expect(view.delivery).toMatchObject({ status: 'sent', provider: 'dnz', error: null });
    const request = dnz.requests.find((r) => (r.json as Body)?.number === phone);
    expect(request).toBeDefined();
    expect(request?.path).toBe('/api/send-otp');
    const text = (request?.json as { message: string }).message;
    expect(text).toMatch(/expires in 5 minutes/);
    const code = /\b(\d{6})\b/.exec(text)?.[1] as string;
    expect((await t.request('POST', '/v1/otp/verify', { body: { phone, code } })).status).toBe(200);
    expect(await jobFor(body.id as string)).toBe(0);
    const attempts = (view.delivery as { attempts: Body[] }).attempts;
    expect(attempts).toEqual([
      expect.objectContaining({ provider: 'dnz', outcome: 'sent', errorCode: null }),
    ]);
  });

  it.each([
    ['500 send_otp_failed', 'send_otp_failed', 'retryable_error'],
    [
      '429 rate limited (Retry-After 30 s: the provider is paused, no retry)',
      'rate_limited',
      'rate_limited_error',
    ],
    ['a hang (timeout)', 'hang', 'retryable_error'],
    ['401 invalid_api_key', 'invalid_api_key', 'configuration_error'],
  ] as const)(
    'first provider fails with %s: the message goes out through the next',
    async (_label, mode, outcome) => {
      dnz.behave(mode);
      const phone = uniquePhone();
      const { body } = await send(phone);
      const view = await waitFor(
        async () => {
          const s = await status(body.id as string);
          return (s.delivery as { status: string }).status === 'delivered' ? s : undefined;
        },
        { what: 'delivered through enosend' },
      );
      expect(view.delivery).toMatchObject({ status: 'delivered', provider: 'enosend' });
      const attempts = (view.delivery as { attempts: { provider: string; outcome: string }[] }).attempts;
      const dnzAttempts = attempts.filter((a) => a.provider === 'dnz');
      expect(dnzAttempts.length).toBeGreaterThanOrEqual(1);
      expect(dnzAttempts.every((a) => a.outcome === outcome)).toBe(true);
      // Retryable errors are retried (DELIVERY_RETRIES=1) before falling back; configuration errors
      // and rate limits (the provider asked us to wait) are not.
      expect(dnzAttempts).toHaveLength(outcome === 'retryable_error' ? 2 : 1);
      expect(attempts.filter((a) => a.provider === 'enosend')).toEqual([
        expect.objectContaining({ outcome: 'sent' }),
      ]);
      const sent = enosend.sendRequests().find((r) => (r.json as Body)?.number === phone.slice(1));
      expect(sent?.headers.authorization).toBe(`Bearer ${enosend.apiKey}`);
    },
  );

  it("the send's job run again after the message went out (its completion lost) sends nothing", async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const id = body.id as string;
    const before = await settled(id);
    expect(before.delivery).toMatchObject({ status: 'sent', provider: 'dnz' });
    const message = dnz.requests.find((r) => (r.json as Body)?.number === phone)?.json as { message: string };
    const code = /\b(\d{6})\b/.exec(message.message)?.[1] as string;
    // The same job again, as the queue runs it when a worker lost the job's completion.
    const payload = { id, c: t.app.get(OtpCrypto).cipher.encrypt(code, id) };
    await withDb((db) =>
      db.query(`SELECT graphile_worker.add_job('deliver-otp', $1::json, job_key => $2)`, [
        JSON.stringify(payload),
        id,
      ]),
    );
    await waitFor(async () => (await jobFor(id)) === 0, { what: 'the repeated job to run' });
    expect(dnz.requests.filter((r) => (r.json as Body)?.number === phone)).toHaveLength(1);
    expect(enosend.sendRequests().filter((r) => (r.json as Body)?.number === phone.slice(1))).toHaveLength(0);
    expect((await status(id)).delivery).toEqual(before.delivery);
  });

  it('a fallback after a provider reported failure: new digits stored and sent in one go, through the next provider; they verify, the old ones no longer do', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const id = body.id as string;
    await settled(id);
    const oldCode = codeIn(dnz.requests.find((r) => (r.json as Body)?.number === phone)!);
    // What a FAILED report for DNZ's message enqueues (webhooks: delivery-reports.repository.ts).
    await withDb((db) =>
      db.query(`SELECT graphile_worker.add_job('deliver-otp-fallback', $1::json, job_key => $2)`, [
        JSON.stringify({ id, failedProvider: 'dnz' }),
        `fallback:${id}`,
      ]),
    );
    const sent = await waitFor(
      () => enosend.sendRequests().find((r) => (r.json as Body)?.number === phone.slice(1)),
      { what: 'the fallback send through EnoSend' },
    );
    await waitFor(async () => (await jobFor(`fallback-send:${id}`)) === 0, { what: 'the fallback send job' });
    const newCode = codeIn(sent)!;
    expect(newCode).not.toBe(oldCode);
    expect(dnz.requests.filter((r) => (r.json as Body)?.number === phone)).toHaveLength(1);
    const wrong = await t.request('POST', '/v1/otp/verify', { body: { phone, code: oldCode } });
    expect(wrong.status).toBe(400);
    expect((await t.request('POST', '/v1/otp/verify', { body: { phone, code: newCode } })).status).toBe(200);
  });

  it("the API's commits wait for the WAL flush; the worker's bookkeeping does not (DATABASE_WORKER_SYNCHRONOUS_COMMIT)", async () => {
    const prisma = t.app.get(PrismaService);
    const setting = async (pool: typeof prisma.pool) =>
      (await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]
        .synchronous_commit;
    expect(await setting(prisma.pool)).toBe('on');
    expect(await setting(prisma.workerPool)).toBe('off');
  });

  it('a provider answering 401 is marked misconfigured and skipped by the next sends', async () => {
    dnz.behave('invalid_api_key');
    const first = await send(uniquePhone());
    await settled(first.body.id as string);
    const state = await withDb((db) => db.query("SELECT state FROM provider_states WHERE provider = 'dnz'"));
    expect(state.rows).toEqual([{ state: 'misconfigured' }]);
    dnz.clearRequests();
    const second = await send(uniquePhone());
    const view = await settled(second.body.id as string);
    expect(dnz.requests).toHaveLength(0);
    expect((view.delivery as { attempts: Body[] }).attempts[0]).toMatchObject({
      provider: 'dnz',
      outcome: 'skipped',
      errorCode: 'misconfigured',
    });
  });

  it('every provider fails: delivery failed, every attempt recorded, no job left', async () => {
    dnz.behave('invalid_number');
    enosend.behave('hang');
    const { body } = await send(uniquePhone());
    const view = await waitFor(
      async () => {
        const s = await status(body.id as string);
        return (s.delivery as { status: string }).status === 'failed' ? s : undefined;
      },
      { what: 'failed delivery' },
    );
    const attempts = (
      view.delivery as { attempts: { provider: string; outcome: string; errorCode: string }[] }
    ).attempts;
    expect(attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
      ['dnz', 'permanent_error', 'invalid_number'],
      ['enosend', 'retryable_error', 'timeout'],
      ['enosend', 'retryable_error', 'timeout'],
    ]);
    expect((view.delivery as { error: string }).error).toBe('timeout');
    expect(await jobFor(body.id as string)).toBe(0);
  });

  it('an opted-out number gets 202 as usual but no message; delivery failed with opted_out', async () => {
    const phone = uniquePhone();
    await optOut(t.app, phone);
    const res = await send(phone);
    expect(res.status).toBe(202);
    const view = await settled(res.body.id as string);
    expect(view.delivery).toMatchObject({ status: 'failed', error: 'opted_out', attempts: [] });
    expect(dnz.requests.filter((r) => (r.json as Body)?.number === phone)).toHaveLength(0);
  });

  it('a test number is never handed to a provider: delivery failed with test_number, its fixed code verifies', async () => {
    const res = await send(TEST_NUMBER);
    expect(res.status).toBe(202);
    const view = await settled(res.body.id as string);
    expect(view.delivery).toMatchObject({ status: 'failed', error: 'test_number', attempts: [] });
    const providerRequests = [...dnz.requests, ...enosend.requests].filter((r) =>
      JSON.stringify(r.json ?? {}).includes('249999001'),
    );
    expect(providerRequests).toHaveLength(0);
    expect(
      (await t.request('POST', '/v1/otp/verify', { body: { phone: TEST_NUMBER, code: '246810' } })).status,
    ).toBe(200);
    expect(await jobFor(res.body.id as string)).toBe(0);
  });
});
