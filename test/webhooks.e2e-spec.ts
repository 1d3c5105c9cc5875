import { randomUUID } from 'node:crypto';
import { ProviderStatesRepository } from '../src/delivery/provider-states.repository.js';
import { startApp, type TestApp } from './helpers/app.js';
import { issuedCode } from './helpers/codes.js';
import { uniquePhone, withDb } from './helpers/db.js';
import { attemptInDoubt, recordSentAttempt, startAttempt } from './helpers/delivery-state.js';
import { queuedJob, queuedPayload } from './helpers/queue.js';
import { enosendHeaders, sinchHeaders, sinchInbound, sinchReport } from './helpers/webhooks.js';

type Body = Record<string, unknown>;

const SINCH_NEW = 'sinch-webhook-secret-new';
const SINCH_OLD = 'sinch-webhook-secret-old';
const ENO_NEW = 'enosend-webhook-secret-new';
const ENO_OLD = 'enosend-webhook-secret-old';
const INVALID = {
  statusCode: 401,
  code: 'invalid_signature',
  message: 'Missing or invalid webhook signature',
};

interface CodeRow {
  delivery_status: string;
  delivery_error: string | null;
  delivered_at: Date | null;
  read_at: Date | null;
  delivery_updated_at: Date | null;
}

async function codeRow(id: string): Promise<CodeRow> {
  return withDb(async (db) => {
    const res = await db.query<CodeRow>(
      `SELECT delivery_status, delivery_error, delivered_at, read_at, delivery_updated_at
       FROM one_time_codes WHERE id = $1`,
      [id],
    );
    return res.rows[0];
  });
}

async function attemptStatus(
  messageId: string,
): Promise<{ provider_status: string | null; error_code: string | null }> {
  return withDb(async (db) => {
    const res = await db.query<{ provider_status: string | null; error_code: string | null }>(
      'SELECT provider_status, error_code FROM delivery_attempts WHERE provider_message_id = $1',
      [messageId],
    );
    return res.rows[0];
  });
}

/** webhook_receipts rows for a nonce or an event value prefix. */
async function receipts(provider: string, kind: string, valuePrefix: string): Promise<string[]> {
  return withDb(async (db) => {
    const res = await db.query<{ value: string }>(
      `SELECT value FROM webhook_receipts WHERE provider = $1 AND kind = $2 AND starts_with(value, $3) ORDER BY value`,
      [provider, kind, valuePrefix],
    );
    return res.rows.map((r) => r.value);
  });
}

async function fallbackJobs(codeId: string): Promise<{ identifier: string; payload: unknown }[]> {
  const job = await queuedJob(`fallback:${codeId}`);
  return job ? [{ identifier: job.task, payload: await queuedPayload(`fallback:${codeId}`) }] : [];
}

describe('Sinch webhooks', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      env: { DELIVERY_WORKER_ENABLED: 'false', SINCH_WEBHOOK_SECRET: `${SINCH_NEW}, ${SINCH_OLD}` },
    });
  });
  afterAll(() => t.close());

  /** A code as a Sinch delivery leaves it: sent, with its message id on the code and the attempt. */
  async function sentCode(): Promise<{ id: string; messageId: string }> {
    const res = await t.request<Body>('POST', '/v1/otp/send', { body: { phone: uniquePhone() } });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const messageId = `sinch-${randomUUID()}`;
    await recordSentAttempt(t.app, id, 'sinch', messageId);
    return { id, messageId };
  }

  function post(raw: string | Buffer, headers: Record<string, string>) {
    return t.request<Body>('POST', '/webhooks/sinch', { raw, headers, auth: false });
  }

  function postSigned(body: Body, secret = SINCH_NEW) {
    const raw = JSON.stringify(body);
    return post(raw, sinchHeaders(secret, raw, t.clock));
  }

  describe('signature', () => {
    it('accepts a valid callback, updates the code and stores nonce and event', async () => {
      const { id, messageId } = await sentCode();
      const raw = JSON.stringify(sinchReport(id, messageId, 'DELIVERED'));
      const headers = sinchHeaders(SINCH_NEW, raw, t.clock);
      const res = await post(raw, headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true });
      expect(await codeRow(id)).toMatchObject({
        delivery_status: 'delivered',
        delivered_at: expect.any(Date),
      });
      expect(await attemptStatus(messageId)).toEqual({ provider_status: 'DELIVERED', error_code: null });
      expect(await receipts('sinch', 'nonce', headers['x-sinch-webhook-signature-nonce'])).toHaveLength(1);
      expect(await receipts('sinch', 'event', messageId)).toEqual([`${messageId}:DELIVERED`]);
    });

    it('accepts the second secret of a rotation list', async () => {
      const { id, messageId } = await sentCode();
      const res = await postSigned(sinchReport(id, messageId, 'DELIVERED'), SINCH_OLD);
      expect(res.status).toBe(200);
      expect((await codeRow(id)).delivery_status).toBe('delivered');
    });

    it.each<[string, (raw: string, clockNow: number) => { raw: string; headers: Record<string, string> }]>([
      [
        'a tampered body',
        (raw, n) => ({
          raw: raw.replace('"DELIVERED"', '"READ"'),
          headers: sinchHeaders(SINCH_NEW, raw, clockOf(n)),
        }),
      ],
      [
        'a tampered timestamp header',
        (raw, n) => {
          const headers = sinchHeaders(SINCH_NEW, raw, clockOf(n));
          headers['x-sinch-webhook-signature-timestamp'] = String(n - 1);
          return { raw, headers };
        },
      ],
      [
        'a tampered nonce header',
        (raw, n) => {
          const headers = sinchHeaders(SINCH_NEW, raw, clockOf(n));
          headers['x-sinch-webhook-signature-nonce'] = `${headers['x-sinch-webhook-signature-nonce']}x`;
          return { raw, headers };
        },
      ],
      ['a wrong secret', (raw, n) => ({ raw, headers: sinchHeaders('not-the-secret', raw, clockOf(n)) })],
      [
        'a timestamp 301 s old',
        (raw, n) => ({
          raw,
          headers: sinchHeaders(SINCH_NEW, raw, clockOf(n), { timestamp: String(n - 301) }),
        }),
      ],
      [
        'a timestamp 301 s in the future',
        (raw, n) => ({
          raw,
          headers: sinchHeaders(SINCH_NEW, raw, clockOf(n), { timestamp: String(n + 301) }),
        }),
      ],
      [
        'algorithm HmacSHA1',
        (raw, n) => ({ raw, headers: sinchHeaders(SINCH_NEW, raw, clockOf(n), { algorithm: 'HmacSHA1' }) }),
      ],
      ['no signature headers', (raw) => ({ raw, headers: { 'content-type': 'application/json' } })],
      [
        'a signature over the re-serialised JSON',
        (raw, n) => {
          const pretty = JSON.stringify(JSON.parse(raw), null, 2);
          return { raw: pretty, headers: sinchHeaders(SINCH_NEW, raw, clockOf(n)) };
        },
      ],
    ])('refuses %s with 401 and records nothing', async (_label, build) => {
      const { id, messageId } = await sentCode();
      const before = await codeRow(id);
      const clockNow = Math.floor(t.clock.now().getTime() / 1000);
      const { raw, headers } = build(JSON.stringify(sinchReport(id, messageId, 'DELIVERED')), clockNow);
      const res = await post(raw, headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(INVALID);
      expect(await codeRow(id)).toEqual(before);
      expect(await attemptStatus(messageId)).toEqual({ provider_status: 'accepted', error_code: null });
      expect(await receipts('sinch', 'event', messageId)).toEqual([]);
      const nonce = headers['x-sinch-webhook-signature-nonce'];
      if (nonce) expect(await receipts('sinch', 'nonce', nonce)).toEqual([]);
    });

    it('refuses a replayed request and a reused nonce, changing nothing', async () => {
      const { id, messageId } = await sentCode();
      const raw = JSON.stringify(sinchReport(id, messageId, 'DELIVERED'));
      const headers = sinchHeaders(SINCH_NEW, raw, t.clock);
      expect((await post(raw, headers)).status).toBe(200);
      const after = await codeRow(id);
      // The exact same request again.
      const replay = await post(raw, headers);
      expect(replay.status).toBe(401);
      expect(replay.body).toEqual(INVALID);
      // A correctly signed READ that reuses the nonce.
      const read = JSON.stringify(sinchReport(id, messageId, 'READ'));
      const reuse = await post(
        read,
        sinchHeaders(SINCH_NEW, read, t.clock, { nonce: headers['x-sinch-webhook-signature-nonce'] }),
      );
      expect(reuse.status).toBe(401);
      expect(await codeRow(id)).toEqual(after);
      expect(await receipts('sinch', 'event', messageId)).toEqual([`${messageId}:DELIVERED`]);
    });

    it('verifies the exact bytes of a unicode and emoji body', async () => {
      const { id, messageId } = await sentCode();
      const body = sinchReport(id, messageId, 'FAILED', 'RECIPIENT_NOT_REACHABLE');
      // Escaped and literal non-ASCII: JSON.stringify of the parsed body would differ from these bytes.
      const raw = JSON.stringify(body).replace(
        '"reason from the fake"',
        '"Mensagem n\\u00e3o entregue \u{1F4F5} – caf\u00e9 \\ud83d\\ude00 \u0645\u0631\u062d\u0628\u0627"',
      );
      expect(JSON.stringify(JSON.parse(raw))).not.toBe(raw);
      const res = await post(raw, sinchHeaders(SINCH_NEW, raw, t.clock));
      expect(res.status).toBe(200);
      expect(await codeRow(id)).toMatchObject({
        delivery_status: 'sent',
        delivery_error: 'RECIPIENT_NOT_REACHABLE',
      });
    });

    it('verifies a pretty-printed body over its own bytes', async () => {
      const { id, messageId } = await sentCode();
      const raw = JSON.stringify(sinchReport(id, messageId, 'READ'), null, 2);
      const res = await post(raw, sinchHeaders(SINCH_NEW, raw, t.clock));
      expect(res.status).toBe(200);
      expect((await codeRow(id)).delivery_status).toBe('read');
    });

    it('answers 413 payload_too_large for a body over the limit, signed or not', async () => {
      const raw = JSON.stringify({
        ...sinchReport(undefined, 'm', 'DELIVERED'),
        padding: 'x'.repeat(17 * 1024),
      });
      const res = await post(raw, sinchHeaders(SINCH_NEW, raw, t.clock));
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, code: 'payload_too_large' });
    });
  });

  describe('delivery reports', () => {
    it('moves sent → delivered → read, recording each time', async () => {
      const { id, messageId } = await sentCode();
      expect((await postSigned(sinchReport(id, messageId, 'QUEUED_ON_CHANNEL'))).status).toBe(200);
      expect((await codeRow(id)).delivery_status).toBe('sent');
      expect((await postSigned(sinchReport(id, messageId, 'DELIVERED'))).status).toBe(200);
      const delivered = await codeRow(id);
      expect(delivered).toMatchObject({
        delivery_status: 'delivered',
        delivered_at: expect.any(Date),
        read_at: null,
      });
      t.clock.advance(1000);
      expect((await postSigned(sinchReport(id, messageId, 'READ'))).status).toBe(200);
      const read = await codeRow(id);
      expect(read).toMatchObject({ delivery_status: 'read', delivered_at: delivered.delivered_at });
      expect(read.read_at!.getTime()).toBeGreaterThan(delivered.delivered_at!.getTime());
      expect(await attemptStatus(messageId)).toEqual({ provider_status: 'READ', error_code: null });
      const view = await t.request<Body>('GET', `/v1/otp/${id}`);
      expect(view.body).toMatchObject({ delivery: { status: 'read' } });
    });

    it('finds the code by message id alone', async () => {
      const { id, messageId } = await sentCode();
      expect((await postSigned(sinchReport(undefined, messageId, 'DELIVERED'))).status).toBe(200);
      expect((await codeRow(id)).delivery_status).toBe('delivered');
    });

    it('never moves back: READ then DELIVERED stays read', async () => {
      const { id, messageId } = await sentCode();
      expect((await postSigned(sinchReport(id, messageId, 'READ'))).status).toBe(200);
      const read = await codeRow(id);
      expect(read).toMatchObject({
        delivery_status: 'read',
        delivered_at: expect.any(Date),
        read_at: expect.any(Date),
      });
      t.clock.advance(1000);
      expect((await postSigned(sinchReport(id, messageId, 'DELIVERED'))).status).toBe(200);
      expect((await postSigned(sinchReport(id, messageId, 'QUEUED_ON_CHANNEL'))).status).toBe(200);
      expect(await codeRow(id)).toEqual(read);
      expect(await attemptStatus(messageId)).toEqual({ provider_status: 'READ', error_code: null });
    });

    it('a repeated report changes nothing', async () => {
      const { id, messageId } = await sentCode();
      expect((await postSigned(sinchReport(id, messageId, 'DELIVERED'))).status).toBe(200);
      const first = await codeRow(id);
      t.clock.advance(1000);
      const again = await postSigned(sinchReport(id, messageId, 'DELIVERED'));
      expect(again.status).toBe(200);
      expect(await codeRow(id)).toEqual(first);
      expect(await receipts('sinch', 'event', messageId)).toEqual([`${messageId}:DELIVERED`]);
    });

    it('concurrent reports end at the furthest status', async () => {
      const { id, messageId } = await sentCode();
      const statuses = ['QUEUED_ON_CHANNEL', 'READ', 'DELIVERED', 'READ', 'DELIVERED', 'QUEUED_ON_CHANNEL'];
      const results = await Promise.all(statuses.map((s) => postSigned(sinchReport(id, messageId, s))));
      expect(results.map((r) => r.status)).toEqual(statuses.map(() => 200));
      expect((await codeRow(id)).delivery_status).toBe('read');
    });

    it('FAILED on a pending code enqueues exactly one fallback job and keeps the reason', async () => {
      const { id, messageId } = await sentCode();
      const failed = sinchReport(id, messageId, 'FAILED', 'OUTSIDE_ALLOWED_SENDING_WINDOW');
      const started = Date.now();
      expect((await postSigned(failed)).status).toBe(200);
      // The answer does not wait for the fallback send: it is only queued.
      expect(Date.now() - started).toBeLessThan(1000);
      expect((await postSigned(failed)).status).toBe(200);
      expect(await codeRow(id)).toMatchObject({
        delivery_status: 'sent',
        delivery_error: 'OUTSIDE_ALLOWED_SENDING_WINDOW',
      });
      expect(await fallbackJobs(id)).toEqual([
        { identifier: 'deliver-otp-fallback', payload: { id, failedProvider: 'sinch' } },
      ]);
      expect(await attemptStatus(messageId)).toEqual({
        provider_status: 'FAILED',
        error_code: 'OUTSIDE_ALLOWED_SENDING_WINDOW',
      });
    });

    it('FAILED after DELIVERED changes nothing and enqueues nothing', async () => {
      const { id, messageId } = await sentCode();
      expect((await postSigned(sinchReport(id, messageId, 'DELIVERED'))).status).toBe(200);
      const delivered = await codeRow(id);
      t.clock.advance(1000);
      expect((await postSigned(sinchReport(id, messageId, 'FAILED', 'RECIPIENT_NOT_REACHABLE'))).status).toBe(
        200,
      );
      expect(await codeRow(id)).toEqual(delivered);
      expect(await fallbackJobs(id)).toEqual([]);
    });

    it('FAILED for a code already verified fails the delivery without a fallback', async () => {
      const { id, messageId } = await sentCode();
      const phone = (await t.request<Body>('GET', `/v1/otp/${id}`)).body.phone as string;
      const code = await issuedCode(id);
      expect((await t.request('POST', '/v1/otp/verify', { body: { phone, code } })).status).toBe(200);
      expect((await postSigned(sinchReport(id, messageId, 'FAILED', 'RECIPIENT_NOT_REACHABLE'))).status).toBe(
        200,
      );
      expect(await codeRow(id)).toMatchObject({
        delivery_status: 'failed',
        delivery_error: 'RECIPIENT_NOT_REACHABLE',
      });
      expect(await fallbackJobs(id)).toEqual([]);
    });

    it('FAILED for a message the code no longer uses (after a fallback) does nothing', async () => {
      const { id, messageId } = await sentCode();
      // The fallback's send through EnoSend went out: its message is now the code's.
      await recordSentAttempt(t.app, id, 'enosend', 'eno-1');
      const before = await codeRow(id);
      expect((await postSigned(sinchReport(id, messageId, 'FAILED', 'RECIPIENT_NOT_REACHABLE'))).status).toBe(
        200,
      );
      expect(await codeRow(id)).toEqual(before);
      expect(await fallbackJobs(id)).toEqual([]);
    });

    it('a signed FAILED report carrying only message_metadata (no message id) changes nothing: no fallback, no new digits, even for a code DNZ delivered', async () => {
      const res = await t.request<Body>('POST', '/v1/otp/send', { body: { phone: uniquePhone() } });
      const id = res.body.id as string;
      await recordSentAttempt(t.app, id, 'dnz', 'dnz-job-x');
      const hash = () =>
        withDb((db) =>
          db.query<{ code_hash: string }>('SELECT code_hash FROM one_time_codes WHERE id = $1', [id]),
        );
      const before = { row: await codeRow(id), hash: (await hash()).rows[0].code_hash };
      const attack = sinchReport(id, '', 'FAILED', 'RECIPIENT_NOT_REACHABLE');
      delete (attack.message_delivery_report as Body).message_id;
      expect((await postSigned(attack)).status).toBe(200);
      expect(await fallbackJobs(id)).toEqual([]);
      expect(await codeRow(id)).toEqual(before.row);
      expect((await hash()).rows[0].code_hash).toBe(before.hash);
    });

    it("a report naming an older attempt's message (a newer attempt went out since) changes nothing", async () => {
      const { id, messageId } = await sentCode();
      // A newer attempt through DNZ (in flight) is now the code's current one.
      await new Promise((r) => setTimeout(r, 5));
      await startAttempt(t.app, id, 'dnz');
      const before = await codeRow(id);
      expect((await postSigned(sinchReport(id, messageId, 'FAILED', 'RECIPIENT_NOT_REACHABLE'))).status).toBe(
        200,
      );
      expect((await postSigned(sinchReport(id, messageId, 'DELIVERED'))).status).toBe(200);
      expect(await codeRow(id)).toEqual(before);
      expect(await fallbackJobs(id)).toEqual([]);
    });

    it('a report naming an attempt left in doubt by a crash (codeId:attemptId in message_metadata) settles it', async () => {
      const res = await t.request<Body>('POST', '/v1/otp/send', { body: { phone: uniquePhone() } });
      const id = res.body.id as string;
      const attemptId = await attemptInDoubt(t.app, id, 'sinch');
      const messageId = `sinch-${randomUUID()}`;
      expect((await postSigned(sinchReport(`${id}:${attemptId}`, messageId, 'DELIVERED'))).status).toBe(200);
      expect((await codeRow(id)).delivery_status).toBe('delivered');
      const attempt = await withDb((db) =>
        db.query(
          'SELECT outcome, provider_message_id, provider_status FROM delivery_attempts WHERE id = $1',
          [attemptId],
        ),
      );
      expect(attempt.rows).toEqual([
        { outcome: 'sent', provider_message_id: messageId, provider_status: 'DELIVERED' },
      ]);
      // A report with a made-up attempt of this code settles nothing.
      const other = await t.request<Body>('POST', '/v1/otp/send', { body: { phone: uniquePhone() } });
      const otherId = other.body.id as string;
      expect(
        (await postSigned(sinchReport(`${otherId}:${randomUUID()}`, `sinch-${randomUUID()}`, 'FAILED')))
          .status,
      ).toBe(200);
      expect(await codeRow(otherId)).toMatchObject({ delivery_status: 'queued', delivery_error: null });
      expect(await fallbackJobs(otherId)).toEqual([]);
    });

    it('SWITCHING_CHANNEL records the raw state only', async () => {
      const { id, messageId } = await sentCode();
      const before = await codeRow(id);
      expect((await postSigned(sinchReport(id, messageId, 'SWITCHING_CHANNEL'))).status).toBe(200);
      expect(await codeRow(id)).toEqual(before);
      expect(await attemptStatus(messageId)).toEqual({
        provider_status: 'SWITCHING_CHANNEL',
        error_code: null,
      });
    });

    it('unknown messages, unknown statuses and unknown event types are accepted and ignored', async () => {
      const unknownMessage = await postSigned(sinchReport(undefined, `nobody-${randomUUID()}`, 'DELIVERED'));
      expect(unknownMessage.status).toBe(200);
      const { id, messageId } = await sentCode();
      const before = await codeRow(id);
      expect((await postSigned(sinchReport(id, messageId, 'TELEPORTED'))).status).toBe(200);
      expect(
        (await postSigned({ app_id: 'app-test', contact_create_notification: { contact: { id: 'c1' } } }))
          .status,
      ).toBe(200);
      expect(await codeRow(id)).toEqual(before);
      expect(await receipts('sinch', 'event', messageId)).toEqual([]);
    });
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

    it('records the last inbound time, STOP opts out and START opts back in', async () => {
      const phone = uniquePhone();
      expect((await postSigned(sinchInbound(phone, 'hello there'))).status).toBe(200);
      const first = await contact(phone);
      expect(first).toEqual({ last_inbound_at: expect.any(Date), opted_out_at: null });

      expect((await postSigned(sinchInbound(phone, '  stop '))).status).toBe(200);
      const stopped = await contact(phone);
      expect(stopped.opted_out_at).toEqual(expect.any(Date));
      expect(stopped.last_inbound_at!.getTime()).toBeGreaterThanOrEqual(first.last_inbound_at!.getTime());

      expect((await postSigned(sinchInbound(phone, 'Thanks'))).status).toBe(200);
      expect((await contact(phone)).opted_out_at).toEqual(stopped.opted_out_at);

      expect((await postSigned(sinchInbound(phone, 'START'))).status).toBe(200);
      expect((await contact(phone)).opted_out_at).toBeNull();

      expect((await postSigned(sinchInbound(phone, 'Unsubscribe'))).status).toBe(200);
      expect((await contact(phone)).opted_out_at).toEqual(expect.any(Date));
    });

    it('a STOP delivered again days later, after a START, opts nobody out (ordered by the event time)', async () => {
      const phone = uniquePhone();
      const inbound = (text: string, daysAgo: number) => {
        const body = sinchInbound(phone, text);
        (body.message as Body).accept_time = new Date(
          t.clock.now().getTime() - daysAgo * 86_400_000,
        ).toISOString();
        return body;
      };
      const stop = inbound('STOP', 3);
      expect((await postSigned(stop)).status).toBe(200);
      expect((await contact(phone)).opted_out_at).toEqual(expect.any(Date));
      expect((await postSigned(inbound('START', 2))).status).toBe(200);
      expect((await contact(phone)).opted_out_at).toBeNull();
      // The same STOP again (Sinch's retry, signed afresh: a new nonce and timestamp), days later.
      expect((await postSigned(stop)).status).toBe(200);
      expect((await contact(phone)).opted_out_at).toBeNull();
    });

    it('a forged STOP is refused and stores nothing', async () => {
      const phone = uniquePhone();
      const raw = JSON.stringify(sinchInbound(phone, 'STOP'));
      const res = await post(raw, sinchHeaders('forged', raw, t.clock));
      expect(res.status).toBe(401);
      expect(await contact(phone)).toBeUndefined();
    });

    it('never logs the number or the message text', async () => {
      const phone = uniquePhone();
      const text = `secret words ${randomUUID()}`;
      expect((await postSigned(sinchInbound(phone, text))).status).toBe(200);
      const logs = t.logs.join('\n');
      expect(logs).toContain('inbound message recorded');
      expect(logs).not.toContain(phone);
      expect(logs).not.toContain(phone.slice(1));
      expect(logs).not.toContain(text);
    });
  });
});

/** A clock frozen at `seconds`, for building headers. */
function clockOf(seconds: number) {
  return { now: () => new Date(seconds * 1000) };
}

describe('webhook metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      env: {
        DELIVERY_WORKER_ENABLED: 'false',
        SINCH_WEBHOOK_SECRET: SINCH_NEW,
        ENOSEND_WEBHOOK_SECRET: ENO_NEW,
      },
    });
  });
  afterAll(() => t.close());

  it('counts every reject by provider and reason, and accepted events by type', async () => {
    const post = (path: string, raw: string, headers: Record<string, string>) =>
      t.request<Body>('POST', path, { raw, headers, auth: false });
    const raw = JSON.stringify(sinchReport(undefined, `m-${randomUUID()}`, 'DELIVERED'));
    const headers = sinchHeaders(SINCH_NEW, raw, t.clock);
    const n = Math.floor(t.clock.now().getTime() / 1000);
    expect((await post('/webhooks/sinch', raw, headers)).status).toBe(200);
    expect((await post('/webhooks/sinch', raw, headers)).status).toBe(401);
    expect((await post('/webhooks/sinch', raw, sinchHeaders('wrong', raw, t.clock))).status).toBe(401);
    expect((await post('/webhooks/sinch', raw, sinchHeaders('wrong', raw, t.clock))).status).toBe(401);
    expect(
      (
        await post(
          '/webhooks/sinch',
          raw,
          sinchHeaders(SINCH_NEW, raw, t.clock, { timestamp: String(n - 600) }),
        )
      ).status,
    ).toBe(401);
    expect(
      (await post('/webhooks/sinch', raw, sinchHeaders(SINCH_NEW, raw, t.clock, { algorithm: 'md5' })))
        .status,
    ).toBe(401);
    expect((await post('/webhooks/sinch', raw, { 'content-type': 'application/json' })).status).toBe(401);
    expect(
      (await post('/webhooks/enosend', '{"event":"x"}', enosendHeaders('wrong', '{"event":"x"}'))).status,
    ).toBe(401);
    const big = JSON.stringify({ padding: 'x'.repeat(17 * 1024) });
    expect((await post('/webhooks/enosend', big, enosendHeaders(ENO_NEW, big))).status).toBe(413);
    expect((await post('/webhooks/enosend', big, { 'content-type': 'application/json' })).status).toBe(413);
    const text = (await t.request('GET', '/metrics', { auth: false })).text;
    for (const line of [
      'otp_webhook_rejects_total{provider="sinch",reason="replayed"} 1',
      'otp_webhook_rejects_total{provider="sinch",reason="bad_signature"} 2',
      'otp_webhook_rejects_total{provider="sinch",reason="stale"} 1',
      'otp_webhook_rejects_total{provider="sinch",reason="bad_algorithm"} 1',
      'otp_webhook_rejects_total{provider="sinch",reason="unsigned"} 1',
      'otp_webhook_rejects_total{provider="enosend",reason="bad_signature"} 1',
      'otp_webhook_rejects_total{provider="enosend",reason="too_large"} 2',
      'otp_webhook_events_total{provider="sinch",type="message_delivery_report"} 1',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });
});

describe('EnoSend webhooks and readiness', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      env: {
        DELIVERY_WORKER_ENABLED: 'false',
        OTP_PROVIDERS: 'enosend',
        ENOSEND_API_BASE: 'http://127.0.0.1:9',
        ENOSEND_INSTANCE_ID: 'inst-1',
        ENOSEND_API_KEY: 'wa_live_test',
        ENOSEND_WEBHOOK_SECRET: `${ENO_NEW},${ENO_OLD}`,
        SINCH_WEBHOOK_SECRET: undefined,
      },
    });
  });
  afterAll(() => t.close());

  const post = (raw: string, headers: Record<string, string>) =>
    t.request<Body>('POST', '/webhooks/enosend', { raw, headers, auth: false });
  const state = (s: string, secondsAgo: number, instance = 'inst-1') =>
    JSON.stringify({
      event: 'instance.state',
      instance_id: instance,
      state: s,
      timestamp: Math.floor(t.clock.now().getTime() / 1000) - secondsAgo,
    });
  async function stored() {
    return withDb(async (db) => {
      const res = await db.query<{ state: string; details: Record<string, unknown> }>(
        `SELECT state, details FROM provider_states WHERE provider = 'enosend'`,
      );
      return res.rows[0];
    });
  }

  it('stores instance.state; readiness stays 200 and shows enosend degraded while disconnected', async () => {
    const raw = state('disconnected', 10);
    const res = await post(raw, enosendHeaders(ENO_NEW, raw));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true });
    expect(await stored()).toEqual({
      state: 'disconnected',
      details: {
        instanceId: 'inst-1',
        timestamp: JSON.parse(raw).timestamp,
        observedAt: new Date(JSON.parse(raw).timestamp * 1000).toISOString(),
      },
    });
    const ready = await t.request<Body>('GET', '/health/ready', { auth: false });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      details: { database: { status: 'up' }, enosend: { status: 'degraded', state: 'disconnected' } },
    });
  });

  it('connected again (sha256= prefix, second secret) is up; a late older state is ignored', async () => {
    const raw = state('connected', 5);
    expect((await post(raw, enosendHeaders(ENO_OLD, raw, 'sha256='))).status).toBe(200);
    expect((await stored()).state).toBe('connected');
    const late = state('disconnected', 60);
    expect((await post(late, enosendHeaders(ENO_NEW, late))).status).toBe(200);
    expect((await stored()).state).toBe('connected');
    const ready = await t.request<Body>('GET', '/health/ready', { auth: false });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      details: { enosend: { status: 'up', state: 'connected' } },
    });
  });

  it.each([
    ['a wrong secret', (raw: string) => enosendHeaders('wrong', raw)],
    ['a signature of another body', () => enosendHeaders(ENO_NEW, state('connected', 1))],
    ['no signature', () => ({ 'content-type': 'application/json' })],
  ])('refuses %s with 401 and stores nothing', async (_label, headers) => {
    const before = await stored();
    const raw = state('logged_out', 1);
    const res = await post(raw, headers(raw));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID);
    expect(await stored()).toEqual(before);
  });

  it('a captured disconnected replayed after a newer connected cannot flip it back, even after the engine wrote its own state; a duplicate changes nothing', async () => {
    const captured = state('disconnected', 120);
    expect((await post(captured, enosendHeaders(ENO_NEW, captured))).status).toBe(200);
    const connected = state('connected', 60);
    expect((await post(connected, enosendHeaders(ENO_NEW, connected))).status).toBe(200);
    const after = await withDb(
      async (db) =>
        (await db.query(`SELECT updated_at FROM provider_states WHERE provider = 'enosend'`)).rows[0],
    );
    // A duplicate of the newest event (the same timestamp) is not stored again.
    t.clock.advance(1000);
    expect((await post(connected, enosendHeaders(ENO_NEW, connected))).status).toBe(200);
    expect(
      await withDb(
        async (db) =>
          (await db.query(`SELECT updated_at FROM provider_states WHERE provider = 'enosend'`)).rows[0],
      ),
    ).toEqual(after);
    // The delivery engine records its own finding (as after a 401) for the same provider.
    await t.app.get(ProviderStatesRepository).setState('enosend', 'connected', { note: 'engine' });
    expect((await post(captured, enosendHeaders(ENO_NEW, captured))).status).toBe(200);
    expect((await stored()).state).toBe('connected');
  });

  it('an instance.state without a timestamp (it could not be ordered) or far in the future is ignored', async () => {
    const before = await stored();
    const undated = JSON.stringify({ event: 'instance.state', instance_id: 'inst-1', state: 'disconnected' });
    expect((await post(undated, enosendHeaders(ENO_NEW, undated))).status).toBe(200);
    const future = state('disconnected', -3600);
    expect((await post(future, enosendHeaders(ENO_NEW, future))).status).toBe(200);
    expect(await stored()).toEqual(before);
  });

  it('ignores another instance and unknown events', async () => {
    const before = await stored();
    const other = state('disconnected', 1, 'inst-2');
    expect((await post(other, enosendHeaders(ENO_NEW, other))).status).toBe(200);
    const unknown = JSON.stringify({ event: 'message.status', message_id: 'm1', status: 'delivered' });
    expect((await post(unknown, enosendHeaders(ENO_NEW, unknown))).status).toBe(200);
    expect(await stored()).toEqual(before);
  });

  it('without SINCH_WEBHOOK_SECRET every Sinch callback is refused (fail closed)', async () => {
    const raw = JSON.stringify(sinchReport(undefined, 'm-1', 'DELIVERED'));
    const res = await t.request<Body>('POST', '/webhooks/sinch', {
      raw,
      headers: sinchHeaders('', raw, t.clock),
      auth: false,
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID);
  });
});
