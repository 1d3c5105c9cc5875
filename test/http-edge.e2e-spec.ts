import { randomUUID } from 'node:crypto';
import { API_KEY, startApp, type HttpResponse, type TestApp } from './helpers/app.js';
import { uniquePhone } from './helpers/db.js';
import { generatedSecret, productionEnv } from './helpers/process.js';

/*
 * The HTTP edge (shared/docs API.md A4, A7; issue 14 findings 11 and 12, issue 15's validation
 * messages): request ids and one access line for every request, 401 reasons, JSON only (415),
 * long URIs (414) in the error shape, messages that name what is wrong, /docs off in production,
 * /metrics behind METRICS_TOKEN.
 */
type Line = Record<string, unknown>;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const REQUEST_ID = /^[0-9a-f-]{36}$/;

function accessLines(t: TestApp, reqId: string): Line[] {
  return t.logs
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.reqId === reqId && l.msg !== undefined && String(l.msg).startsWith('request completed'));
}

/** Sends with a fresh X-Request-Id and returns the response with its access lines. */
async function traced(
  t: TestApp,
  method: string,
  path: string,
  options: Parameters<TestApp['request']>[2] = {},
): Promise<{ res: HttpResponse; lines: Line[]; id: string }> {
  const id = randomUUID();
  const res = await t.request(method, path, {
    ...options,
    headers: { ...options.headers, 'x-request-id': id },
  });
  // The access line is written when the response has been sent: poll briefly for it.
  for (let i = 0; i < 100 && accessLines(t, id).length === 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  return { res, lines: accessLines(t, id), id };
}

describe('HTTP edge: request ids, access lines, content types, long URIs, validation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' }, logLevel: 'info' });
  });
  afterAll(() => t.close());

  const long = 'a'.repeat(300);
  const cases: [string, string, string, Parameters<TestApp['request']>[2], number, string][] = [
    ['a send', 'POST', '/v1/otp/send', { body: { phone: uniquePhone() } }, 202, '/v1/otp/send'],
    ['a status', 'GET', `/v1/otp/${randomUUID()}`, {}, 404, '/v1/otp/:id'],
    [
      'a missing key',
      'POST',
      '/v1/otp/send',
      { body: { phone: '0241234567' }, auth: false },
      401,
      '/v1/otp/send',
    ],
    ['a form body', 'POST', '/v1/otp/send', { raw: 'phone=0241234567', headers: FORM }, 415, '/v1/otp/send'],
    [
      'a form webhook',
      'POST',
      '/webhooks/sinch',
      { raw: 'a=1', headers: FORM, auth: false },
      415,
      '/webhooks/sinch',
    ],
    ['a long :id', 'GET', `/v1/otp/${long}`, {}, 414, 'unmatched'],
    ['a long path', 'GET', `/${'b'.repeat(3000)}`, { auth: false }, 414, 'unmatched'],
    ['a malformed percent-encoding', 'GET', '/v1/otp/%E0%A4%A', {}, 400, 'unmatched'],
    ['an unknown route', 'GET', '/nope', { auth: false }, 404, 'unmatched'],
    [
      'malformed JSON',
      'POST',
      '/v1/otp/send',
      { raw: '{', headers: { 'content-type': 'application/json' } },
      400,
      '/v1/otp/send',
    ],
    ['liveness', 'GET', '/health/live', { auth: false }, 200, '/health/live'],
    ['metrics', 'GET', '/metrics', { auth: false }, 200, '/metrics'],
  ];

  it.each(cases)(
    '%s: X-Request-Id on the response and exactly one access line',
    async (_name, method, path, options, status, route) => {
      const { res, lines, id } = await traced(t, method, path, options);
      expect(res.status).toBe(status);
      expect(res.headers.get('x-request-id')).toBe(id);
      expect(lines).toEqual([
        expect.objectContaining({
          reqId: id,
          method,
          route,
          statusCode: status,
          responseTime: expect.any(Number),
        }),
      ]);
      // Never the raw URL (an id, a phone typed into a path, junk).
      expect(JSON.stringify(lines)).not.toContain(path.length > 20 ? path.slice(8, 40) : '\u0000');
    },
  );

  it('a request refused by the HTTP parser (431) carries an X-Request-Id too', async () => {
    const res = await fetch(`${t.url}/health/live`, { headers: { 'x-big': 'x'.repeat(20_000) } });
    expect(res.status).toBe(431);
    expect(res.headers.get('x-request-id')).toMatch(REQUEST_ID);
    expect(await res.json()).toEqual({
      statusCode: 431,
      code: 'headers_too_large',
      message: 'The request headers are too large',
    });
  });

  it('names the calling client on its access line', async () => {
    const { lines } = await traced(t, 'POST', '/v1/otp/send', { body: { phone: uniquePhone() } });
    expect(lines[0]).toMatchObject({ client: 'acme', statusCode: 202 });
  });

  it.each([
    ['missing_key', { auth: false as const }],
    ['malformed_authorization', { auth: false as const, headers: { authorization: `Basic ${API_KEY}` } }],
    ['unknown_key', { auth: 'not-a-configured-key-0123456789' }],
  ])('a 401 logs why (%s), without key material', async (reason, options) => {
    const { res, lines } = await traced(t, 'POST', '/v1/otp/send', {
      body: { phone: '0241234567' },
      ...options,
    });
    expect(res.status).toBe(401);
    expect(lines).toEqual([expect.objectContaining({ statusCode: 401, authFailure: reason })]);
    expect(JSON.stringify(lines)).not.toMatch(/not-a-configured-key|acme-test-key|Basic/);
  });

  it.each([
    ['form-encoded', FORM, 'phone=0241234567'],
    ['text/plain', { 'content-type': 'text/plain' }, '{"phone":"0241234567"}'],
    ['no content type', {}, '{"phone":"0241234567"}'],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
  ])('%s on /v1/* is 415 unsupported_media_type', async (_name, headers, raw) => {
    for (const path of ['/v1/otp/send', '/v1/otp/verify']) {
      const res = await t.request('POST', path, { raw, headers });
      expect([path, res.status, res.body]).toEqual([
        path,
        415,
        { statusCode: 415, code: 'unsupported_media_type', message: 'Content-Type must be application/json' },
      ]);
    }
  });

  it('authentication comes before the content type (API.md Decision 4)', async () => {
    const res = await t.request('POST', '/v1/otp/send', { raw: 'phone=1', headers: FORM, auth: false });
    expect(res.status).toBe(401);
  });

  it.each(['/webhooks/sinch', '/webhooks/enosend'])('a form-encoded body on %s is 415', async (path) => {
    const res = await t.request('POST', path, { raw: 'event=x', headers: FORM, auth: false });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ code: 'unsupported_media_type' });
  });

  it.each([
    ['a long :id', `/v1/otp/${long}`],
    ['a long path', `/v1/${'c'.repeat(5000)}`],
  ])('%s is 414 uri_too_long in the error shape, echoing nothing', async (_name, path) => {
    const res = await t.request('GET', path);
    expect(res.status).toBe(414);
    expect(res.body).toEqual({
      statusCode: 414,
      code: 'uri_too_long',
      message: 'The request URI is too long',
    });
  });

  it.each([
    ['{}', { body: {} }, { phone: 'phone is required' }],
    ['no body', {}, { phone: 'phone is required' }],
    ['a numeric phone', { body: { phone: 233241234567 } }, { phone: 'phone must be a string' }],
    ['an empty phone', { body: { phone: '' } }, { phone: 'phone should not be empty' }],
    [
      'an unknown field',
      { body: { phone: '0241234567', extra: 1 } },
      { extra: 'property extra should not exist' },
    ],
    ['a body that is not an object', { body: ['0241234567'] }, { body: 'must be a JSON object' }],
  ])('send with %s: the message names what is wrong', async (_name, options, details) => {
    const res = await t.request('POST', '/v1/otp/send', options);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      code: 'invalid_request',
      message: 'Request validation failed',
      details,
    });
  });

  it('verify without a code names the missing code; a numeric code is the wrong type', async () => {
    const missing = await t.request('POST', '/v1/otp/verify', { body: { phone: '0241234567' } });
    expect(missing.body).toMatchObject({ details: { code: 'code is required' } });
    const numeric = await t.request('POST', '/v1/otp/verify', {
      body: { phone: '0241234567', code: 123456 },
    });
    expect(numeric.body).toMatchObject({ details: { code: 'code must be a string' } });
  });
});

describe('HTTP edge: /docs and /metrics exposure (API.md A4)', () => {
  const production = (extra: Record<string, string> = {}) => ({
    ...productionEnv(API_KEY.padEnd(24, '0')),
    DELIVERY_WORKER_ENABLED: 'false',
    ...extra,
  });

  it('production: /docs and /docs-json are 404 route_not_found unless DOCS_ENABLED=true', async () => {
    const off = await startApp({ env: production() });
    try {
      for (const path of ['/docs', '/docs-json']) {
        const res = await off.request('GET', path, { auth: false });
        expect([path, res.status, res.body]).toEqual([
          path,
          404,
          { statusCode: 404, code: 'route_not_found', message: 'Route not found' },
        ]);
      }
    } finally {
      await off.close();
    }
    const on = await startApp({ env: production({ DOCS_ENABLED: 'true' }) });
    try {
      expect((await on.request('GET', '/docs-json', { auth: false })).status).toBe(200);
    } finally {
      await on.close();
    }
  });

  it('with METRICS_TOKEN set, /metrics needs Authorization: Bearer <METRICS_TOKEN>', async () => {
    const token = generatedSecret();
    const t = await startApp({ env: production({ METRICS_TOKEN: token }), logLevel: 'info' });
    try {
      const unauthorized = {
        statusCode: 401,
        code: 'unauthorized',
        message: 'Missing or invalid metrics token',
      };
      const none = await traced(t, 'GET', '/metrics', { auth: false });
      expect([none.res.status, none.res.body]).toEqual([401, unauthorized]);
      expect(none.lines).toEqual([expect.objectContaining({ authFailure: 'missing_key' })]);
      const wrong = await traced(t, 'GET', '/metrics', {
        auth: `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`,
      });
      expect([wrong.res.status, wrong.res.body]).toEqual([401, unauthorized]);
      expect(wrong.lines).toEqual([expect.objectContaining({ authFailure: 'unknown_token' })]);
      // A client API key is not the metrics token.
      expect((await t.request('GET', '/metrics', { auth: API_KEY.padEnd(24, '0') })).status).toBe(401);
      const right = await t.request('GET', '/metrics', { auth: token });
      expect(right.status).toBe(200);
      expect(right.text).toContain('otp_');
    } finally {
      await t.close();
    }
  });
});
