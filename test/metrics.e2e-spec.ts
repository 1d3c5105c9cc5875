import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RETENTION_TASK } from '../src/delivery/queue/queue.contract.js';
import { OneTimeCodesRepository } from '../src/codes/one-time-codes.repository.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { providerEnvFor, startSinchFake, type SinchFake } from './fakes/index.js';
import { startApp, type TestApp } from './helpers/app.js';
import { issuedCode } from './helpers/codes.js';
import { uniquePhone, withDb } from './helpers/db.js';
import { waitFor } from './helpers/wait.js';
import { sinchHeaders, sinchReport } from './helpers/webhooks.js';
import { findPromtool } from './helpers/promtool.js';

type Body = Record<string, unknown>;

/** The metrics the operations issue asks for, by name (MetricsService must keep providing them). */
const REQUIRED = [
  'otp_http_request_duration_seconds',
  'otp_codes_issued_total',
  'otp_resend_refused_total',
  'otp_verifications_total',
  'otp_delivery_attempts_total',
  'otp_delivery_latency_seconds',
  'otp_webhook_rejects_total',
  'otp_throttled_total',
  'otp_delivery_queue_depth',
  'otp_delivery_queue_oldest_age_seconds',
  'otp_deliveries_total',
  'otp_delivery_failures_total',
  'otp_conversion_sent_total',
  'otp_conversion_verified_total',
  'otp_provider_circuit_state',
];

const promtool = findPromtool('promtool tests');

const webhooksDir = join(process.cwd(), 'src', 'webhooks');
const webhooksBuilt =
  existsSync(webhooksDir) &&
  readdirSync(webhooksDir, { recursive: true }).some((f) => String(f).endsWith('.controller.ts'));

/** Sum of every sample `name{...}` whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

// One app for the describes that need no configuration of their own (no worker: jobs stay queued,
// and this replica still answers for the queue). Their assertions are deltas, so sharing it makes
// no test depend on another. They run before the Sinch describe boots its own app: an app's logs
// are captured while it is the one started last (test/helpers/app.ts).
let t: TestApp;
beforeAll(async () => {
  t = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' } });
});
afterAll(() => t.close());

describe('Prometheus metrics at /metrics', () => {
  const scrape = async () => {
    const res = await t.request('GET', '/metrics', { auth: false });
    expect(res.status).toBe(200);
    return res;
  };

  it('answers in the Prometheus text format, without an API key', async () => {
    const res = await scrape();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('exposes every metric of MetricsService, the issue’s list included', async () => {
    const names = t.app
      .get(MetricsService)
      .registry.getMetricsAsArray()
      .map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(REQUIRED));
    const { text } = await scrape();
    for (const name of names) expect([name, text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
  });

  it('moves after a send → resend → wrong, right and reused verify → status cycle', async () => {
    const before = (await scrape()).text;
    const phone = uniquePhone();
    const sent = await t.request<Body>('POST', '/v1/otp/send', { body: { phone, purpose: 'metrics' } });
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    // An immediate resend hits the cooldown.
    expect((await t.request('POST', '/v1/otp/send', { body: { phone, purpose: 'metrics' } })).status).toBe(
      429,
    );
    const code = await issuedCode(id);
    const wrong = code === '000000' ? '111111' : '000000';
    expect(
      (await t.request('POST', '/v1/otp/verify', { body: { phone, code: wrong, purpose: 'metrics' } }))
        .status,
    ).toBe(400);
    expect(
      (await t.request('POST', '/v1/otp/verify', { body: { phone, code, purpose: 'metrics' } })).status,
    ).toBe(200);
    expect(
      (await t.request('POST', '/v1/otp/verify', { body: { phone, code, purpose: 'metrics' } })).status,
    ).toBe(400);
    expect((await t.request('GET', `/v1/otp/${id}`)).status).toBe(200);
    expect((await t.request('GET', '/no/such/route/12345')).status).toBe(404);
    const after = (await scrape()).text;

    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('otp_codes_issued_total', { client: 'acme' })).toBe(1);
    expect(delta('otp_resend_refused_total')).toBe(1);
    expect(delta('otp_verifications_total', { outcome: 'invalid_code' })).toBe(1);
    expect(delta('otp_verifications_total', { outcome: 'verified' })).toBe(1);
    expect(delta('otp_verifications_total', { outcome: 'not_found' })).toBe(1);

    const http = 'otp_http_request_duration_seconds_count';
    expect(delta(http, { method: 'POST', route: '/v1/otp/send', status: '202' })).toBe(1);
    expect(delta(http, { method: 'POST', route: '/v1/otp/send', status: '429' })).toBe(1);
    expect(delta(http, { method: 'POST', route: '/v1/otp/verify', status: '200' })).toBe(1);
    expect(delta(http, { method: 'POST', route: '/v1/otp/verify', status: '400' })).toBe(2);
    expect(delta(http, { method: 'GET', route: '/v1/otp/:id', status: '200' })).toBe(1);
    expect(delta(http, { route: 'unmatched', status: '404' })).toBe(1);
    expect(delta('otp_http_request_duration_seconds_sum', { route: '/v1/otp/send' })).toBeGreaterThan(0);
    // Route patterns only: never an id or a raw path in a label.
    expect(after).not.toContain(id);
    expect(after).not.toContain('/no/such/route');
  });

  it('counts a code verified while its only attempt was in doubt as sent, once, under that provider', async () => {
    const before = (await scrape()).text;
    const phone = uniquePhone();
    const sent = await t.request<Body>('POST', '/v1/otp/send', { body: { phone, purpose: 'in-doubt' } });
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    // What the delivery job does for such a code (DeliveryService.deliver), twice: a re-run of the
    // job finds the status already moved and counts nothing.
    const repository = t.app.get(OneTimeCodesRepository);
    await repository.markSentInDoubt(id, 'dnz', t.clock.now());
    await repository.markSentInDoubt(id, 'dnz', t.clock.now());
    await withDb((db) => db.query('SELECT graphile_worker.remove_job($1)', [id]));
    const after = (await scrape()).text;
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect({
      sent: delta('otp_deliveries_total', { provider: 'dnz', status: 'sent' }),
      conversionSent: delta('otp_conversion_sent_total', { provider: 'dnz', country: 'GH' }),
      sentLatency: delta('otp_delivery_latency_seconds_count', { provider: 'dnz', stage: 'sent' }),
    }).toEqual({ sent: 1, conversionSent: 1, sentLatency: 1 });
  });

  (webhooksBuilt ? it : it.skip)('counts a rejected (unsigned) webhook', async () => {
    const before = (await scrape()).text;
    const res = await t.request('POST', '/webhooks/sinch', { body: { event: 'x' }, auth: false });
    expect(res.status).toBe(401);
    const after = (await scrape()).text;
    expect(
      sample(after, 'otp_webhook_rejects_total', { provider: 'sinch' }) -
        sample(before, 'otp_webhook_rejects_total', { provider: 'sinch' }),
    ).toBe(1);
  });
});

describe('queue gauges, read from the database by the replica that is scraped', () => {
  it('counts queued delivery jobs, not the cron task, and ages the oldest due one', async () => {
    const depth = async () => {
      const text = (await t.request('GET', '/metrics', { auth: false })).text;
      return {
        depth: sample(text, 'otp_delivery_queue_depth'),
        age: sample(text, 'otp_delivery_queue_oldest_age_seconds'),
      };
    };
    const fromDb = () =>
      withDb(async (db) =>
        Number(
          (
            await db.query<{ n: string }>(
              `SELECT count(*) AS n FROM graphile_worker.jobs j
               WHERE j.task_identifier <> $1 AND j.attempts < j.max_attempts`,
              [RETENTION_TASK],
            )
          ).rows[0].n,
        ),
      );
    const before = await depth();
    expect(before.depth).toBe(await fromDb());
    for (let i = 0; i < 2; i++) {
      expect((await t.request('POST', '/v1/otp/send', { body: { phone: uniquePhone() } })).status).toBe(202);
    }
    // A retention job (the cron task) in the queue is not a delivery.
    await withDb((db) =>
      db.query(`SELECT graphile_worker.add_job($1, '{}'::json, job_key => 'metrics-test-retention')`, [
        RETENTION_TASK,
      ]),
    );
    const after = await depth();
    expect(after.depth - before.depth).toBe(2);
    expect(after.depth).toBe(await fromDb());
    expect(after.age).toBeGreaterThanOrEqual(0);
    await withDb((db) => db.query(`SELECT graphile_worker.remove_job('metrics-test-retention')`));
  });

  (promtool ? it : it.skip)('passes promtool check metrics', async () => {
    const text = (await t.request('GET', '/metrics', { auth: false })).text;
    const run = spawnSync(promtool as string, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: run.status, problems: `${run.stdout}${run.stderr}`.trim() }).toEqual({
      status: 0,
      problems: '',
    });
  });
});

describe('delivery outcome, latency, conversion and queue metrics', () => {
  const SECRET = 'metrics-sinch-webhook-secret-0123';
  let sinch: SinchFake;
  // This describe's own app (a worker and the Sinch fake), shadowing the shared one.
  let t: TestApp;
  beforeAll(async () => {
    sinch = await startSinchFake();
    t = await startApp({
      env: {
        ...providerEnvFor({ sinch }, { chain: ['sinch'] }),
        SINCH_WEBHOOK_SECRET: SECRET,
        OTP_RESEND_COOLDOWN_SECONDS: '0',
      },
    });
    // The queue is shared with the files that ran before (one database per run), and some leave
    // codes queued (their apps ran without a worker): this worker sends those through the Sinch
    // fake too, as GH numbers. Let it finish them first, so the counts below are this file's own.
    await waitFor(
      () =>
        withDb(
          async (db) =>
            (
              await db.query(
                `SELECT 1 FROM graphile_worker.jobs j
                 WHERE j.task_identifier <> $1 AND j.attempts < j.max_attempts AND j.run_at <= now() LIMIT 1`,
                [RETENTION_TASK],
              )
            ).rowCount === 0,
        ),
      { timeoutMs: 20_000, what: "other files' queued deliveries to be done" },
    );
  });
  afterAll(async () => {
    await t.close();
    await sinch.close();
  });

  const scrape = async () => (await t.request('GET', '/metrics', { auth: false })).text;
  const report = async (body: Body) => {
    const raw = JSON.stringify(body);
    const res = await t.request('POST', '/webhooks/sinch', {
      raw,
      headers: sinchHeaders(SECRET, raw, t.clock),
      auth: false,
    });
    expect(res.status).toBe(200);
  };
  /** Sends a code and waits until the worker has handed it to the Sinch fake. */
  const sentCode = async () => {
    const phone = uniquePhone();
    const res = await t.request<Body>('POST', '/v1/otp/send', { body: { phone } });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await waitFor(
      async () => ((await t.request<Body>('GET', `/v1/otp/${id}`)).body.delivery as Body).status === 'sent',
      { what: 'the code to be sent' },
    );
    const messageId = await withDb(
      async (db) =>
        (
          await db.query<{ m: string }>('SELECT delivery_message_id AS m FROM one_time_codes WHERE id = $1', [
            id,
          ])
        ).rows[0].m,
    );
    // The code as it reached the provider (the job holding it is gone once delivered).
    const request = sinch.sendRequests().find((r) => JSON.stringify(r.json).includes(id));
    const code = /"(\d{6})"/.exec(JSON.stringify(request?.json))?.[1] as string;
    return { id, phone, messageId, code };
  };

  it('counts sent, delivered and verified once per code, by provider and country, with latencies', async () => {
    const before = await scrape();
    const { id, phone, messageId, code } = await sentCode();
    await report(sinchReport(id, messageId, 'DELIVERED'));
    // The same report again (a provider retry), and a stale QUEUED_ON_CHANNEL: nothing moves.
    await report(sinchReport(id, messageId, 'DELIVERED'));
    await report(sinchReport(id, messageId, 'QUEUED_ON_CHANNEL'));
    expect((await t.request('POST', '/v1/otp/verify', { body: { phone, code } })).status).toBe(200);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect({
      sent: delta('otp_deliveries_total', { provider: 'sinch', status: 'sent' }),
      delivered: delta('otp_deliveries_total', { provider: 'sinch', status: 'delivered' }),
      conversionSent: delta('otp_conversion_sent_total', { provider: 'sinch', country: 'GH' }),
      conversionVerified: delta('otp_conversion_verified_total', { provider: 'sinch', country: 'GH' }),
      sentLatency: delta('otp_delivery_latency_seconds_count', { provider: 'sinch', stage: 'sent' }),
      deliveredLatency: delta('otp_delivery_latency_seconds_count', {
        provider: 'sinch',
        stage: 'delivered',
      }),
    }).toEqual({
      sent: 1,
      delivered: 1,
      conversionSent: 1,
      conversionVerified: 1,
      sentLatency: 1,
      deliveredLatency: 1,
    });
    // Decision 8: no purpose and no phone in any label.
    expect(after).not.toMatch(/purpose="/);
    expect(after).not.toContain(phone.slice(1));
  });

  it('counts a late provider failure once: final for a verified code, after the fallback for a pending one', async () => {
    const before = await scrape();
    // Verified before the provider reported failure: the failure is final at once.
    const verified = await sentCode();
    expect(
      (await t.request('POST', '/v1/otp/verify', { body: { phone: verified.phone, code: verified.code } }))
        .status,
    ).toBe(200);
    await report(sinchReport(verified.id, verified.messageId, 'FAILED', 'RECIPIENT_NOT_REACHABLE'));
    await report(sinchReport(verified.id, verified.messageId, 'FAILED', 'RECIPIENT_NOT_REACHABLE'));
    // Still pending: the fallback job decides; with no provider after Sinch the delivery fails.
    const pending = await sentCode();
    await report(sinchReport(pending.id, pending.messageId, 'FAILED', 'RECIPIENT_NOT_REACHABLE'));
    await waitFor(
      async () =>
        ((await t.request<Body>('GET', `/v1/otp/${pending.id}`)).body.delivery as Body).status === 'failed',
      { what: 'the fallback to fail the delivery' },
    );
    const after = await scrape();
    const delta = (labels: Record<string, string>) =>
      sample(after, 'otp_delivery_failures_total', labels) -
      sample(before, 'otp_delivery_failures_total', labels);
    expect({
      late: delta({ provider: 'sinch', reason: 'recipient_not_reachable' }),
      afterFallback: delta({ provider: 'sinch', reason: 'all_providers_failed' }),
      all: delta({}),
    }).toEqual({ late: 1, afterFallback: 1, all: 2 });
  });
});
