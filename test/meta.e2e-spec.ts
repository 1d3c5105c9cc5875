import { startApp, type TestApp } from './helpers/app.js';
import { uniquePhone, withDb } from './helpers/db.js';
import { waitFor } from './helpers/wait.js';
import { queuedJob } from './helpers/queue.js';
import {
  type DnzFake,
  type MetaFake,
  type MetaMode,
  metaCallback,
  metaInbound,
  metaSignature,
  metaStatus,
  providerEnvFor,
  startDnzFake,
  startMetaFake,
} from './fakes/index.js';

type Body = Record<string, unknown>;
interface Attempt {
  provider: string;
  outcome: string;
  errorCode: string | null;
}
interface Delivery {
  status: string;
  provider: string | null;
  error: string | null;
  attempts: Attempt[];
}

const APP_SECRET = 'meta-app-secret-new-0123456789';
const APP_SECRET_OLD = 'meta-app-secret-old-0123456789';
const VERIFY_TOKEN = 'meta-verify-token-new-0123456789';
const VERIFY_TOKEN_OLD = 'meta-verify-token-old-0123456789';
const INVALID = {
  statusCode: 401,
  code: 'invalid_signature',
  message: 'Missing or invalid webhook signature',
};
const FORBIDDEN = { statusCode: 403, code: 'forbidden', message: 'Wrong verify token or mode' };

/** A body of exactly `bytes` bytes: a Meta callback padded with a change for another phone number. */
function padded(body: Record<string, unknown>, bytes: number): string {
  const base = JSON.stringify({ ...body, padding: '' });
  return JSON.stringify({ ...body, padding: 'x'.repeat(Math.max(0, bytes - Buffer.byteLength(base))) });
}

describe('meta: WhatsApp Cloud API provider and webhooks', () => {
  let meta: MetaFake;
  let dnz: DnzFake;
  let t: TestApp;

  beforeAll(async () => {
    meta = await startMetaFake();
    dnz = await startDnzFake();
    t = await startApp({
      env: {
        ...providerEnvFor({ meta, dnz }, { chain: ['meta', 'dnz'], timeoutMs: 400 }),
        META_APP_SECRET: `${APP_SECRET}, ${APP_SECRET_OLD}`,
        META_WEBHOOK_VERIFY_TOKEN: `${VERIFY_TOKEN},${VERIFY_TOKEN_OLD}`,
        DELIVERY_RETRIES: '2',
        DELIVERY_RETRY_BASE_MS: '10',
        // Two consecutive provider-wide failures open the circuit: the pair-rate test needs it low.
        DELIVERY_CIRCUIT_THRESHOLD: '2',
        // DELIVERY_RATE_LIMIT_WAIT_SECONDS stays at its default (10 s): a paused meta stays paused
        // for the whole of the test that paused it; beforeEach lifts the pause for the next.
        OTP_RESEND_COOLDOWN_SECONDS: '0',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await meta.close();
    await dnz.close();
  });
  beforeEach(async () => {
    meta.reset();
    dnz.reset();
    // Misconfigured marks and rate-limit pauses (paused_until) must not leak into the next test.
    await withDb((db) => db.query('DELETE FROM provider_states'));
  });

  const send = (phone: string) => t.request<Body>('POST', '/v1/otp/send', { body: { phone } });
  const verify = (phone: string, code: string) =>
    t.request<Body>('POST', '/v1/otp/verify', { body: { phone, code } });
  const delivery = async (id: string) =>
    (await t.request<Body>('GET', `/v1/otp/${id}`)).body.delivery as Delivery;
  const deliveryWhere = (id: string, ok: (d: Delivery) => boolean, what: string, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        const d = await delivery(id);
        return ok(d) ? d : undefined;
      },
      { what, timeoutMs },
    );
  const settled = (id: string) => deliveryWhere(id, (d) => d.status !== 'queued', `delivery of ${id}`);
  const metaSent = (phone: string) => meta.sent.filter((m) => m.to === phone.slice(1));
  const dnzCodes = (phone: string) =>
    dnz.requests
      .filter((r) => (r.json as Body)?.number === phone)
      .map((r) => /\b(\d{6})\b/.exec((r.json as { message: string }).message)?.[1] as string);
  const metric = async (line: string) => {
    const text = (await t.request('GET', '/metrics', { auth: false })).text;
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    return found ? Number(found.slice(line.length + 1)) : 0;
  };
  const pausedUntil = async (provider: string) =>
    (
      await withDb((db) =>
        db.query<{ paused_until: Date | null }>(
          'SELECT paused_until FROM provider_states WHERE provider = $1',
          [provider],
        ),
      )
    ).rows[0]?.paused_until ?? null;
  const providerState = async (provider: string) =>
    (
      await withDb((db) =>
        db.query<{ state: string }>('SELECT state FROM provider_states WHERE provider = $1', [provider]),
      )
    ).rows.map((r) => r.state);

  /** A code delivered through meta: its id, number, wamid and the code Meta received. */
  async function sentThroughMeta(): Promise<{ id: string; phone: string; wamid: string; code: string }> {
    const phone = uniquePhone();
    const res = await send(phone);
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const d = await settled(id);
    expect(d).toMatchObject({ status: 'sent', provider: 'meta' });
    const [sent] = metaSent(phone);
    return { id, phone, wamid: sent.id, code: sent.code };
  }

  function post(raw: string | Buffer, headers: Record<string, string> = {}) {
    return t.request<Body>('POST', '/webhooks/meta', {
      raw,
      headers: { 'content-type': 'application/json', ...headers },
      auth: false,
    });
  }
  function postSigned(body: Record<string, unknown> | string, secret = APP_SECRET) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return post(raw, { 'x-hub-signature-256': metaSignature(secret, raw) });
  }
  const statuses = (...list: Record<string, unknown>[]) =>
    metaCallback(meta.phoneNumberId, [{ statuses: list }]);

  async function codeRow(id: string) {
    return withDb(async (db) => {
      const res = await db.query<{
        delivery_status: string;
        delivery_error: string | null;
        delivery_updated_at: Date;
      }>('SELECT delivery_status, delivery_error, delivery_updated_at FROM one_time_codes WHERE id = $1', [
        id,
      ]);
      return res.rows[0];
    });
  }
  async function fallbackJobs(id: string): Promise<number> {
    return (await queuedJob(`fallback:${id}`)) ? 1 : 0;
  }

  describe('send', () => {
    it('sends the AUTHENTICATION template (body and url button both the code, to without +), keeps the wamid; the code verifies', async () => {
      const { id, phone, wamid, code } = await sentThroughMeta();
      // Only this phone's request: a job another test file left in the shared queue may go out first.
      const [req] = meta
        .sendRequests()
        .filter((r) => (r.json as { to?: string } | undefined)?.to === phone.slice(1));
      expect(req.path).toBe(`/v23.0/${meta.phoneNumberId}/messages`);
      expect(req.headers.authorization).toBe(`Bearer ${meta.accessToken}`);
      expect(req.json).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: phone.slice(1),
        type: 'template',
        template: {
          name: meta.templateName,
          language: { code: 'en_US' },
          components: [
            { type: 'body', parameters: [{ type: 'text', text: code }] },
            { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
          ],
        },
      });
      const row = await withDb((db) =>
        db.query<{ delivery_message_id: string; delivery_provider: string }>(
          'SELECT delivery_message_id, delivery_provider FROM one_time_codes WHERE id = $1',
          [id],
        ),
      );
      expect(row.rows[0]).toEqual({ delivery_message_id: wamid, delivery_provider: 'meta' });
      expect(wamid).toMatch(/^wamid\./);
      expect(dnz.requests).toHaveLength(0);
      expect((await verify(phone, code)).status).toBe(200);
    });

    it.each<[string, MetaMode | 'hang', string]>([
      ['something went wrong (131000, HTTP 500)', 'something_went_wrong', '131000'],
      ['a hang (timeout)', 'hang', 'timeout'],
    ])('%s: waits and retries meta, which then delivers', async (_label, mode, errorCode) => {
      meta.queue(mode);
      const phone = uniquePhone();
      const { body } = await send(phone);
      const d = await deliveryWhere(body.id as string, (x) => x.status === 'sent', 'sent through meta');
      expect(d.provider).toBe('meta');
      expect(d.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
        ['meta', 'retryable_error', errorCode],
        ['meta', 'sent', null],
      ]);
      expect(dnz.requests).toHaveLength(0);
      expect((await verify(phone, metaSent(phone)[0].code)).status).toBe(200);
    });

    it('throughput limit (130429): not retried in the job; meta is paused, the code goes out through dnz, and the next send skips meta', async () => {
      meta.queue('throughput_limit');
      const phone = uniquePhone();
      const { body } = await send(phone);
      const d = await settled(body.id as string);
      expect(d).toMatchObject({ status: 'sent', provider: 'dnz' });
      expect(d.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
        ['meta', 'rate_limited_error', '130429'],
        ['dnz', 'sent', null],
      ]);
      // One call to meta: a rate limit is never burst-retried inside the job.
      expect(meta.sendRequests()).toHaveLength(1);
      // Meta sends no Retry-After: the service's default wait pauses meta for every code.
      expect(await pausedUntil('meta')).not.toBeNull();
      // A rate limit says nothing about meta's health: its circuit stays closed.
      expect(await metric('otp_provider_circuit_state{provider="meta"}')).toBe(0);
      expect((await verify(phone, dnzCodes(phone)[0])).status).toBe(200);

      // While paused, the next code does not ask meta; the reason shows in its status.
      const other = uniquePhone();
      const next = await send(other);
      const skipped = await settled(next.body.id as string);
      expect(skipped).toMatchObject({ status: 'sent', provider: 'dnz' });
      expect(skipped.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
        ['meta', 'skipped', 'rate_limited'],
        ['dnz', 'sent', null],
      ]);
      expect(meta.sendRequests()).toHaveLength(1);
      expect((await verify(other, dnzCodes(other)[0])).status).toBe(200);
    });

    it('pair rate limit (131056) twice: the code waits through the queue for meta each time, never opens the circuit (threshold 2), and verifies', async () => {
      meta.queue('pair_rate_limit', 'pair_rate_limit');
      const phone = uniquePhone();
      const { body } = await send(phone);
      // Each retry runs from the queue after Meta's 6 s: give it room (never asserted on).
      const d = await deliveryWhere(
        body.id as string,
        (x) => x.status !== 'queued',
        'sent through meta',
        60_000,
      );
      // Had the failures counted against meta's health, the third try would meet an open circuit
      // and the code would go out through dnz; a per-recipient limit never pauses meta either.
      expect(d).toMatchObject({ status: 'sent', provider: 'meta' });
      expect(d.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
        ['meta', 'rate_limited_error', '131056'],
        ['meta', 'rate_limited_error', '131056'],
        ['meta', 'sent', null],
      ]);
      expect(dnz.requests).toHaveLength(0);
      expect(await pausedUntil('meta')).toBeNull();
      expect(await metric('otp_provider_circuit_state{provider="meta"}')).toBe(0);
      expect((await verify(phone, metaSent(phone)[0].code)).status).toBe(200);
    }, 90_000);

    it.each<[MetaMode, string]>([
      ['token_expired', '190'],
      ['permission_denied', '10'],
      ['template_missing', '132001'],
      ['template_params', '132000'],
      ['template_paused', '132015'],
      ['account_locked', '131031'],
    ])(
      'configuration error %s (%s): falls back at once, meta is skipped by the next send, the alert metric rises',
      async (mode, errorCode) => {
        const metricLine = 'otp_delivery_attempts_total{provider="meta",outcome="configuration_error"}';
        const before = await metric(metricLine);
        meta.behave(mode);
        const phone = uniquePhone();
        const { body } = await send(phone);
        const d = await settled(body.id as string);
        expect(d.status).toBe('sent');
        expect(d.provider).toBe('dnz');
        expect(d.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
          ['meta', 'configuration_error', errorCode],
          ['dnz', 'sent', null],
        ]);
        expect(meta.sendRequests()).toHaveLength(1);
        expect(await providerState('meta')).toEqual(['misconfigured']);
        expect(await metric(metricLine)).toBe(before + 1);
        expect((await verify(phone, dnzCodes(phone)[0])).status).toBe(200);

        // The provider's "circuit" is open for every replica: the next code does not ask meta.
        meta.clearRequests();
        const next = await send(uniquePhone());
        const skipped = await settled(next.body.id as string);
        expect(meta.sendRequests()).toHaveLength(0);
        expect(skipped.attempts[0]).toMatchObject({
          provider: 'meta',
          outcome: 'skipped',
          errorCode: 'misconfigured',
        });
        expect(skipped.provider).toBe('dnz');
      },
    );

    it.each<[MetaMode, string]>([
      ['undeliverable', '131026'],
      ['invalid_parameter', '100'],
    ])(
      'per-recipient error %s (%s): falls back for that code at once; meta stays healthy for the next',
      async (mode, errorCode) => {
        meta.queue(mode);
        const phone = uniquePhone();
        const { body } = await send(phone);
        const d = await settled(body.id as string);
        expect(d.provider).toBe('dnz');
        expect(d.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
          ['meta', 'permanent_error', errorCode],
          ['dnz', 'sent', null],
        ]);
        expect(await providerState('meta')).toEqual([]);
        expect(await metric('otp_provider_circuit_state{provider="meta"}')).toBe(0);
        // The code the user finally receives verifies.
        expect((await verify(phone, dnzCodes(phone)[0])).status).toBe(200);
        // The next code goes through meta as usual.
        await sentThroughMeta();
      },
    );
  });

  describe('GET /webhooks/meta (subscription handshake)', () => {
    const handshake = (query: Record<string, string>) =>
      t.request('GET', `/webhooks/meta?${new URLSearchParams(query).toString()}`, { auth: false });

    it('answers 200 with exactly the challenge as text/plain, for either token of a rotation', async () => {
      for (const token of [VERIFY_TOKEN, VERIFY_TOKEN_OLD]) {
        const res = await handshake({
          'hub.mode': 'subscribe',
          'hub.verify_token': token,
          'hub.challenge': '1158201444',
        });
        expect(res.status).toBe(200);
        expect(res.text).toBe('1158201444');
        expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      }
    });

    it.each<[string, Record<string, string>]>([
      ['a wrong token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': '42' }],
      [
        'a token prefix',
        { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN.slice(0, -1), 'hub.challenge': '42' },
      ],
      ['no token', { 'hub.mode': 'subscribe', 'hub.challenge': '42' }],
      [
        'another mode',
        { 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '42' },
      ],
    ])('refuses %s with 403 forbidden in the error shape', async (_label, query) => {
      const rejects = 'otp_webhook_rejects_total{provider="meta",reason="bad_verify_token"}';
      const before = await metric(rejects);
      const res = await handshake(query);
      expect(await metric(rejects)).toBe(before + 1);
      expect(res.status).toBe(403);
      expect(res.body).toEqual(FORBIDDEN);
      expect(res.text).not.toContain('42');
    });

    it('never echoes a malformed challenge', async () => {
      const res = await handshake({
        'hub.mode': 'subscribe',
        'hub.verify_token': VERIFY_TOKEN,
        'hub.challenge': '<script>alert(1)</script>',
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request' });
      expect(res.text).not.toContain('<script>');
    });
  });

  describe('POST /webhooks/meta', () => {
    it('a signed delivered then read moves the code forward; either secret of the rotation verifies', async () => {
      const { id, wamid, phone } = await sentThroughMeta();
      const delivered = await postSigned(statuses(metaStatus(wamid, 'delivered', phone.slice(1))));
      expect(delivered.status).toBe(200);
      expect(delivered.body).toEqual({ received: true });
      expect((await codeRow(id)).delivery_status).toBe('delivered');
      expect(
        (await postSigned(statuses(metaStatus(wamid, 'read', phone.slice(1))), APP_SECRET_OLD)).status,
      ).toBe(200);
      expect((await codeRow(id)).delivery_status).toBe('read');
      const d = await delivery(id);
      expect(d.attempts).toEqual([expect.objectContaining({ provider: 'meta', outcome: 'sent' })]);
      // Moving forward only: a late "delivered" (or "sent") after "read" changes nothing.
      const before = await codeRow(id);
      expect((await postSigned(statuses(metaStatus(wamid, 'sent', phone.slice(1))))).status).toBe(200);
      expect(await codeRow(id)).toEqual(before);
    });

    it('a replayed callback (same message id and status) answers 200 and changes nothing', async () => {
      const { id, wamid, phone } = await sentThroughMeta();
      const raw = JSON.stringify(statuses(metaStatus(wamid, 'delivered', phone.slice(1))));
      const headers = { 'x-hub-signature-256': metaSignature(APP_SECRET, raw) };
      expect((await post(raw, headers)).status).toBe(200);
      const after = await codeRow(id);
      expect(after.delivery_status).toBe('delivered');
      t.clock.advance(1000);
      expect((await post(raw, headers)).status).toBe(200);
      expect(await codeRow(id)).toEqual(after);
    });

    it.each<[string, (raw: string) => { raw: string; headers: Record<string, string> }]>([
      ['no signature', (raw) => ({ raw, headers: {} })],
      [
        'a wrong secret',
        (raw) => ({ raw, headers: { 'x-hub-signature-256': metaSignature('not-the-secret', raw) } }),
      ],
      [
        'a tampered body',
        (raw) => ({
          raw: raw.replace('"delivered"', '"read"'),
          headers: { 'x-hub-signature-256': metaSignature(APP_SECRET, raw) },
        }),
      ],
      [
        'a signature over the re-serialised JSON',
        (raw) => ({
          raw: JSON.stringify(JSON.parse(raw), null, 2),
          headers: { 'x-hub-signature-256': metaSignature(APP_SECRET, raw) },
        }),
      ],
      [
        'a bare hex digest',
        (raw) => ({ raw, headers: { 'x-hub-signature-256': metaSignature(APP_SECRET, raw).slice(7) } }),
      ],
    ])('refuses %s with 401 invalid_signature and changes nothing', async (_label, build) => {
      const { id, wamid, phone } = await sentThroughMeta();
      const before = await codeRow(id);
      const { raw, headers } = build(
        JSON.stringify(statuses(metaStatus(wamid, 'delivered', phone.slice(1)))),
      );
      const res = await post(raw, headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(INVALID);
      expect(await codeRow(id)).toEqual(before);
    });

    it('takes a batch: several entries and statuses in one body', async () => {
      const a = await sentThroughMeta();
      const b = await sentThroughMeta();
      const one = statuses(metaStatus(a.wamid, 'delivered', a.phone.slice(1)));
      const two = metaCallback(meta.phoneNumberId, [
        {
          statuses: [
            metaStatus(b.wamid, 'delivered', b.phone.slice(1)),
            metaStatus(b.wamid, 'read', b.phone.slice(1)),
          ],
        },
      ]);
      const body = {
        object: 'whatsapp_business_account',
        entry: [...(one.entry as unknown[]), ...(two.entry as unknown[])],
      };
      expect((await postSigned(body)).status).toBe(200);
      expect((await codeRow(a.id)).delivery_status).toBe('delivered');
      expect((await codeRow(b.id)).delivery_status).toBe('read');
    });

    it('ignores unknown message ids and other phone number ids with 200', async () => {
      const { id, wamid, phone } = await sentThroughMeta();
      const before = await codeRow(id);
      expect(
        (
          await postSigned(
            statuses(metaStatus('wamid.unknown', 'failed', phone.slice(1), { errorCode: 131026 })),
          )
        ).status,
      ).toBe(200);
      const other = metaCallback('999999999999999', [
        { statuses: [metaStatus(wamid, 'failed', phone.slice(1), { errorCode: 131026 })] },
      ]);
      const res = await postSigned(other);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true });
      expect(await codeRow(id)).toEqual(before);
      expect(await fallbackJobs(id)).toBe(0);
    });

    it('accepts a signed body up to 1 MiB (Meta batches); 413 payload_too_large above, while Sinch keeps its limit', async () => {
      const { id, wamid, phone } = await sentThroughMeta();
      const near = padded(statuses(metaStatus(wamid, 'delivered', phone.slice(1))), 1024 * 1024 - 64);
      expect((await postSigned(near)).status).toBe(200);
      expect((await codeRow(id)).delivery_status).toBe('delivered');
      const over = padded(statuses(metaStatus(wamid, 'read', phone.slice(1))), 1024 * 1024 + 1);
      const res = await postSigned(over);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, code: 'payload_too_large' });
      expect((await codeRow(id)).delivery_status).toBe('delivered');
      const sinch = await t.request('POST', '/webhooks/sinch', {
        raw: padded({}, 100 * 1024),
        headers: { 'content-type': 'application/json' },
        auth: false,
      });
      expect(sinch.status).toBe(413);
    });

    it('failed with 131026 falls back to the next provider: the code the user finally receives verifies; a replay sends nothing more', async () => {
      const { id, wamid, phone, code: metaCode } = await sentThroughMeta();
      const raw = JSON.stringify(
        statuses(metaStatus(wamid, 'failed', phone.slice(1), { errorCode: 131026 })),
      );
      const headers = { 'x-hub-signature-256': metaSignature(APP_SECRET, raw) };
      expect((await post(raw, headers)).status).toBe(200);
      const d = await deliveryWhere(id, (x) => x.provider === 'dnz', 'fallback through dnz');
      expect(d.status).toBe('sent');
      expect(d.attempts.map((a) => [a.provider, a.outcome])).toEqual([
        ['meta', 'sent'],
        ['dnz', 'sent'],
      ]);
      const codes = dnzCodes(phone);
      expect(codes).toHaveLength(1);
      // Meta's status is kept on its attempt; the replay after the fallback changes nothing.
      const attempt = await withDb((db) =>
        db.query<{ provider_status: string; error_code: string }>(
          'SELECT provider_status, error_code FROM delivery_attempts WHERE provider_message_id = $1',
          [wamid],
        ),
      );
      expect(attempt.rows).toEqual([{ provider_status: 'failed', error_code: '131026' }]);
      expect((await post(raw, headers)).status).toBe(200);
      expect(await fallbackJobs(id)).toBe(0);
      expect(dnzCodes(phone)).toHaveLength(1);
      // New digits went out through dnz: those verify (the digits Meta could not deliver do not,
      // unless both draws happened to agree).
      if (codes[0] !== metaCode) expect((await verify(phone, metaCode)).status).toBe(400);
      expect((await verify(phone, codes[0])).status).toBe(200);
    });

    it('failed with a template error reported later marks meta misconfigured, and falls back', async () => {
      const { id, wamid, phone } = await sentThroughMeta();
      expect(
        (await postSigned(statuses(metaStatus(wamid, 'failed', phone.slice(1), { errorCode: 132015 }))))
          .status,
      ).toBe(200);
      await deliveryWhere(id, (x) => x.provider === 'dnz', 'fallback through dnz');
      expect(await providerState('meta')).toEqual(['misconfigured']);
      const attempt = await withDb((db) =>
        db.query<{ provider_status: string; error_code: string }>(
          'SELECT provider_status, error_code FROM delivery_attempts WHERE provider_message_id = $1',
          [wamid],
        ),
      );
      expect(attempt.rows).toEqual([{ provider_status: 'failed', error_code: '132015' }]);
      // The next code does not ask meta while it is marked misconfigured.
      meta.clearRequests();
      const next = await send(uniquePhone());
      expect((await settled(next.body.id as string)).provider).toBe('dnz');
      expect(meta.sendRequests()).toHaveLength(0);
    });

    describe('inbound messages', () => {
      async function contact(phone: string) {
        return withDb(async (db) => {
          const res = await db.query<{ last_inbound_at: Date | null; opted_out_at: Date | null }>(
            'SELECT last_inbound_at, opted_out_at FROM whatsapp_contacts WHERE phone = $1',
            [phone],
          );
          return res.rows[0];
        });
      }
      const inbound = (phone: string, text: string, at: number) =>
        postSigned(metaCallback(meta.phoneNumberId, [{ messages: [metaInbound(phone.slice(1), text, at)] }]));

      it('records activity; STOP opts out (sends then fail with opted_out, nothing reaches Meta); START opts back in', async () => {
        const phone = uniquePhone();
        const t0 = Math.floor(Date.now() / 1000) - 60;
        expect((await inbound(phone, 'hello', t0)).status).toBe(200);
        expect(await contact(phone)).toEqual({ last_inbound_at: new Date(t0 * 1000), opted_out_at: null });

        expect((await inbound(phone, ' Stop ', t0 + 1)).status).toBe(200);
        expect((await contact(phone)).opted_out_at).toEqual(new Date((t0 + 1) * 1000));
        const refused = await send(phone);
        expect(refused.status).toBe(202);
        expect(await settled(refused.body.id as string)).toMatchObject({
          status: 'failed',
          error: 'opted_out',
        });
        expect(metaSent(phone)).toHaveLength(0);

        expect((await inbound(phone, 'START', t0 + 2)).status).toBe(200);
        expect((await contact(phone)).opted_out_at).toBeNull();
        const ok = await send(phone);
        expect(await settled(ok.body.id as string)).toMatchObject({ status: 'sent', provider: 'meta' });
      });

      it('a STOP replayed after a later START opts nobody out again', async () => {
        const phone = uniquePhone();
        const t0 = Math.floor(Date.now() / 1000) - 3 * 86400;
        const stop = JSON.stringify(
          metaCallback(meta.phoneNumberId, [{ messages: [metaInbound(phone.slice(1), 'STOP', t0)] }]),
        );
        const headers = { 'x-hub-signature-256': metaSignature(APP_SECRET, stop) };
        expect((await post(stop, headers)).status).toBe(200);
        expect((await inbound(phone, 'START', t0 + 60)).status).toBe(200);
        expect((await contact(phone)).opted_out_at).toBeNull();
        // Meta retries for days: the same signed STOP, days later.
        t.clock.advance(2 * 86400_000);
        expect((await post(stop, headers)).status).toBe(200);
        expect((await contact(phone)).opted_out_at).toBeNull();
        t.clock.advance(-2 * 86400_000);
      });

      it('a forged STOP is refused and stores nothing; a STOP for another phone number id is ignored', async () => {
        const phone = uniquePhone();
        const body = metaCallback(meta.phoneNumberId, [{ messages: [metaInbound(phone.slice(1), 'STOP')] }]);
        expect((await postSigned(body, 'forged-secret')).status).toBe(401);
        const other = metaCallback('999999999999999', [{ messages: [metaInbound(phone.slice(1), 'STOP')] }]);
        expect((await postSigned(other)).status).toBe(200);
        expect(await contact(phone)).toBeUndefined();
      });
    });
  });
});

describe('meta alone: a provider-wide rate limit waits through the queue', () => {
  let meta: MetaFake;
  let t: TestApp;

  beforeAll(async () => {
    meta = await startMetaFake();
    t = await startApp({
      env: {
        ...providerEnvFor({ meta }, { chain: ['meta'], timeoutMs: 400 }),
        META_APP_SECRET: APP_SECRET,
        META_WEBHOOK_VERIFY_TOKEN: VERIFY_TOKEN,
        DELIVERY_RETRIES: '2',
        DELIVERY_RETRY_BASE_MS: '10',
        DELIVERY_RATE_LIMIT_WAIT_SECONDS: '1',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await meta.close();
  });
  beforeEach(async () => {
    meta.reset();
    await withDb((db) => db.query('DELETE FROM provider_states'));
  });

  it('throughput limit (130429) once with no other provider: the code waits out the pause, then meta delivers it; it verifies', async () => {
    meta.queue('throughput_limit');
    const phone = uniquePhone();
    const res = await t.request<Body>('POST', '/v1/otp/send', { body: { phone } });
    expect(res.status).toBe(202);
    const d = await waitFor(
      async () => {
        const x = (await t.request<Body>('GET', `/v1/otp/${res.body.id as string}`)).body
          .delivery as Delivery;
        return x.status !== 'queued' ? x : undefined;
      },
      { what: 'delivery through meta', timeoutMs: 30_000 },
    );
    expect(d).toMatchObject({ status: 'sent', provider: 'meta' });
    expect(d.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
      ['meta', 'rate_limited_error', '130429'],
      ['meta', 'sent', null],
    ]);
    const sent = meta.sent.filter((m) => m.to === phone.slice(1));
    expect(sent).toHaveLength(1);
    const verified = await t.request<Body>('POST', '/v1/otp/verify', { body: { phone, code: sent[0].code } });
    expect(verified.status).toBe(200);
  }, 60_000);
});

describe('meta webhooks without their secrets (fail closed)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      env: {
        DELIVERY_WORKER_ENABLED: 'false',
        META_APP_SECRET: undefined,
        META_WEBHOOK_VERIFY_TOKEN: undefined,
      },
    });
  });
  afterAll(() => t.close());

  it('refuses every handshake (403) and every callback (401)', async () => {
    const get = await t.request(
      'GET',
      '/webhooks/meta?hub.mode=subscribe&hub.verify_token=&hub.challenge=1',
      {
        auth: false,
      },
    );
    expect(get.status).toBe(403);
    expect(get.body).toEqual(FORBIDDEN);
    const raw = JSON.stringify(metaCallback('106540352242922', []));
    const post = await t.request('POST', '/webhooks/meta', {
      raw,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature('', raw) },
      auth: false,
    });
    expect(post.status).toBe(401);
    expect(post.body).toEqual(INVALID);
  });
});
