import { startApp, type TestApp } from './helpers/app.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

describe('foundation: HTTP contract, errors and health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('liveness answers 200 without the database', async () => {
    const res = await t.request('GET', '/health/live', { auth: false });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok' });
  });

  it('readiness answers 200 with the database up and migrated', async () => {
    const res = await t.request('GET', '/health/ready', { auth: false });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('every response carries a request id, echoing a sane caller-supplied one', async () => {
    const res = await t.request('GET', '/health/live', {
      auth: false,
      headers: { 'x-request-id': 'req-12345678' },
    });
    expect(res.headers.get('x-request-id')).toBe('req-12345678');
    const other = await t.request('GET', '/health/live', {
      auth: false,
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('401 unauthorized without or with a wrong API key', async () => {
    const none = await t.request('POST', '/v1/otp/send', { body: { phone: '+233200000000' }, auth: false });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({
      statusCode: 401,
      code: 'unauthorized',
      message: 'Missing or invalid API key',
    });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await t.request('POST', '/v1/otp/send', {
      body: { phone: '+233200000000' },
      auth: 'nope-nope-nope-nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'unauthorized' });
  });

  it('malformed JSON is 400 invalid_request, never a 500', async () => {
    const res = await t.request('POST', '/v1/otp/send', {
      raw: '{"phone": "+233200000000",',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'invalid_request' });
  });

  it('an oversized body is 413 payload_too_large', async () => {
    const res = await t.request('POST', '/v1/otp/send', {
      body: { phone: '+233200000000', pad: 'x'.repeat(40_000) },
    });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      statusCode: 413,
      code: 'payload_too_large',
      message: 'Request body is too large',
    });
  });

  it('unknown fields and wrong types are 400 invalid_request with a field map', async () => {
    const unknown = await t.request('POST', '/v1/otp/send', {
      body: { phone: '+233200000000', admin: true },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'invalid_request', details: { admin: expect.any(String) } });
    const wrongType = await t.request('POST', '/v1/otp/send', { body: { phone: 233200000000 } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({ code: 'invalid_request', details: { phone: expect.any(String) } });
  });

  it('a non-JSON content type is 415 and an unknown route 404, in the error shape', async () => {
    const text = await t.request('POST', '/v1/otp/send', {
      raw: 'phone=1',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ code: 'unsupported_media_type' });
    const missing = await t.request('GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ statusCode: 404, code: 'route_not_found', message: 'Route not found' });
  });
});

describe('foundation: the database goes away and comes back', () => {
  it('readiness 503 while unreachable, liveness 200, API 503 fast, then recovers without restart', async () => {
    const db = new URL(process.env.DATABASE_URL as string);
    const proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port || 5432) });
    const t = await startApp({
      env: {
        DATABASE_URL: proxy.url(db.toString()),
        DATABASE_CONNECT_TIMEOUT_MS: '500',
        DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      },
    });
    try {
      expect((await t.request('GET', '/health/ready', { auth: false })).status).toBe(200);
      proxy.cut();
      const ready = await t.request('GET', '/health/ready', { auth: false });
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ code: 'service_unavailable' });
      expect((await t.request('GET', '/health/live', { auth: false })).status).toBe(200);
      const started = Date.now();
      const send = await t.request('POST', '/v1/otp/send', { body: { phone: '+233241234567' } });
      expect(send.status).toBe(503);
      expect(send.body).toMatchObject({ statusCode: 503, code: 'service_unavailable' });
      expect(Date.now() - started).toBeLessThan(5000);
      proxy.restore();
      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await t.request('GET', '/health/ready', { auth: false })).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      await t.close();
      await proxy.close();
    }
  });

  it('starts while the database is unreachable: live 200, ready 503', async () => {
    const t = await startApp({
      env: { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere', DATABASE_CONNECT_TIMEOUT_MS: '300' },
    });
    try {
      expect((await t.request('GET', '/health/live', { auth: false })).status).toBe(200);
      expect((await t.request('GET', '/health/ready', { auth: false })).status).toBe(503);
    } finally {
      await t.close();
    }
  });
});
