import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { startApp, type TestApp } from './helpers/app.js';
import { issuedCode } from './helpers/codes.js';
import { uniquePhone } from './helpers/db.js';

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
  'otp_provider_circuit_state',
];

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

describe('Prometheus metrics at /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' } });
  });
  afterAll(() => t.close());

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
