import { createHash } from 'node:crypto';
import { startApp, type TestApp } from './helpers/app.js';
import { issuedCode } from './helpers/codes.js';
import { uniquePhone, withDb } from './helpers/db.js';

type Body = Record<string, unknown>;

describe('OTP core: send, verify, status', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' } });
  });
  afterAll(() => t.close());

  async function send(phone: string, extra: Body = {}, headers: Record<string, string> = {}) {
    return t.request<Body>('POST', '/v1/otp/send', { body: { phone, ...extra }, headers });
  }
  async function verify(phone: string, code: string, extra: Body = {}) {
    return t.request<Body>('POST', '/v1/otp/verify', { body: { phone, code, ...extra } });
  }
  function wrong(code: string): string {
    return code === '000000' ? '111111' : '000000';
  }

  it('send answers 202 with the contract fields', async () => {
    const phone = uniquePhone();
    const before = Date.now();
    const res = await send(phone);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      phone,
      purpose: 'login',
      status: 'pending',
      delivery: { status: 'queued' },
      expiresAt: expect.any(String),
      expiresIn: 300,
      resendAvailableAt: expect.any(String),
      attemptsRemaining: 5,
    });
    const expiresAt = Date.parse(res.body.expiresAt as string);
    expect(expiresAt - before).toBeGreaterThanOrEqual(299_000);
    expect(expiresAt - before).toBeLessThanOrEqual(301_000);
    expect(Date.parse(res.body.resendAvailableAt as string) - before).toBeGreaterThanOrEqual(59_000);
    expect(await issuedCode(res.body.id as string)).toMatch(/^\d{6}$/);
  });

  it('every common spelling of a number reaches the same record', async () => {
    const res = await send('+233 24 555 0101');
    expect(res.body.phone).toBe('+233245550101');
    const code = await issuedCode(res.body.id as string);
    for (const spelling of ['0245550101', '024-555-0101', '(024) 555 0101', '00233245550101']) {
      const r = await verify(spelling, wrong(code));
      expect([spelling, r.body]).toMatchObject([spelling, { code: 'invalid_code' }]);
    }
    const view = await t.request<Body>('GET', `/v1/otp/${res.body.id as string}`);
    expect(view.body).toMatchObject({ attempts: 4, attemptsRemaining: 1 });
    // ...and a fifth spelling, with an explicit defaultCountry, verifies it.
    const ok = await verify('+233 (0)24 555 0101', code, { defaultCountry: 'GH' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ verified: true, id: res.body.id, verifiedAt: expect.any(String) });
  });

  it.each([
    ['a fixed line', '+233 30 221 2345'],
    ['a premium number', '+44 909 876 5432'],
    ['too short', '+233 24'],
    ['letters', 'call me maybe'],
  ])('%s is 400 invalid_phone', async (_label, phone) => {
    const res = await send(phone);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'invalid_phone' });
  });

  it('a right code verifies once; then not_found', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const code = await issuedCode(body.id as string);
    const first = await verify(phone, code);
    expect(first.status).toBe(200);
    const again = await verify(phone, code);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ verified: false, code: 'not_found', statusCode: 400 });
  });

  it('wrong codes count down, then the code is burnt (even the right one fails)', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const code = await issuedCode(body.id as string);
    for (let remaining = 4; remaining >= 0; remaining--) {
      const r = await verify(phone, wrong(code));
      expect(r.status).toBe(400);
      expect(r.body).toEqual({
        verified: false,
        statusCode: 400,
        code: 'invalid_code',
        message: expect.any(String),
        attemptsRemaining: remaining,
      });
    }
    const right = await verify(phone, code);
    expect(right.status).toBe(429);
    expect(right.body).toMatchObject({ verified: false, code: 'max_attempts_reached' });
  });

  it('a code for one purpose never verifies another', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone, { purpose: 'payment' });
    const code = await issuedCode(body.id as string);
    expect((await verify(phone, code)).body).toMatchObject({ code: 'not_found' });
    expect((await verify(phone, code, { purpose: 'reset' })).body).toMatchObject({ code: 'not_found' });
    expect((await verify(phone, code, { purpose: 'payment' })).status).toBe(200);
  });

  it('expires after OTP_TTL_SECONDS (clock moved, not slept)', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const code = await issuedCode(body.id as string);
    t.clock.advance(301_000);
    try {
      const r = await verify(phone, code);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ verified: false, code: 'expired' });
      const view = await t.request<Body>('GET', `/v1/otp/${body.id as string}`);
      expect(view.body).toMatchObject({ status: 'expired', attemptsRemaining: 0 });
    } finally {
      t.clock.advance(-301_000);
    }
  });

  it('a resend inside the cooldown is 429 resend_cooldown with Retry-After; after it, the old code is canceled', async () => {
    const phone = uniquePhone();
    const first = await send(phone);
    const oldCode = await issuedCode(first.body.id as string);
    const early = await send(phone);
    expect(early.status).toBe(429);
    expect(early.body).toMatchObject({ statusCode: 429, code: 'resend_cooldown' });
    expect(Number(early.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    t.clock.advance(61_000);
    try {
      const second = await send(phone);
      expect(second.status).toBe(202);
      const newCode = await issuedCode(second.body.id as string);
      const old = await t.request<Body>('GET', `/v1/otp/${first.body.id as string}`);
      expect(old.body).toMatchObject({ status: 'canceled' });
      if (oldCode !== newCode)
        expect((await verify(phone, oldCode)).body).toMatchObject({ code: 'invalid_code' });
      expect((await verify(phone, newCode)).status).toBe(200);
    } finally {
      t.clock.advance(-61_000);
    }
  });

  it('50 parallel requests with the right code: exactly one verifies', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const code = await issuedCode(body.id as string);
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(phone, code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 500 || r.status === 503)).toHaveLength(0);
  });

  it('50 parallel wrong guesses never take more than OTP_MAX_ATTEMPTS tries', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const code = await issuedCode(body.id as string);
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(phone, wrong(code))));
    expect(results.filter((r) => r.body.code === 'invalid_code')).toHaveLength(5);
    expect(results.filter((r) => r.body.code === 'max_attempts_reached')).toHaveLength(45);
    const attempts = await withDb((db) =>
      db.query('SELECT attempts, status FROM one_time_codes WHERE id = $1', [body.id]),
    );
    expect(attempts.rows[0]).toEqual({ attempts: 5, status: 'max_attempts_reached' });
    expect((await verify(phone, code)).body).toMatchObject({ code: 'max_attempts_reached' });
  });

  it('20 parallel sends for one phone issue exactly one code', async () => {
    const phone = uniquePhone();
    const results = await Promise.all(Array.from({ length: 20 }, () => send(phone)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 429).every((r) => r.body.code === 'resend_cooldown')).toBe(
      true,
    );
    expect(results.filter((r) => r.status !== 202 && r.status !== 429)).toHaveLength(0);
    const rows = await withDb((db) =>
      db.query('SELECT count(*)::int AS n FROM one_time_codes WHERE phone = $1', [phone]),
    );
    expect(rows.rows[0].n).toBe(1);
  });

  it('GET /v1/otp/:id shows status, attempts and delivery; other clients and unknown ids get 404', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const code = await issuedCode(body.id as string);
    await verify(phone, wrong(code));
    const view = await t.request<Body>('GET', `/v1/otp/${body.id as string}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      id: body.id,
      phone,
      purpose: 'login',
      status: 'pending',
      attempts: 1,
      attemptsRemaining: 4,
      verifiedAt: null,
      delivery: { status: 'queued', attempts: [] },
    });
    const other = await t.request('GET', `/v1/otp/${body.id as string}`, {
      auth: 'globex-test-key-0123456789',
    });
    expect(other.status).toBe(404);
    expect((await t.request('GET', '/v1/otp/not-a-uuid')).body).toMatchObject({ code: 'not_found' });
  });

  describe('Idempotency-Key', () => {
    it('same key and body replays the first response without a second code', async () => {
      const phone = uniquePhone();
      const key = `k-${phone}`;
      const first = await send(phone, {}, { 'idempotency-key': key });
      const second = await send(phone, {}, { 'idempotency-key': key });
      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      const rows = await withDb((db) =>
        db.query('SELECT count(*)::int AS n FROM one_time_codes WHERE phone = $1', [phone]),
      );
      expect(rows.rows[0].n).toBe(1);
    });

    it('same key with another body is 422 idempotency_key_reused', async () => {
      const phone = uniquePhone();
      const key = `k2-${phone}`;
      await send(phone, {}, { 'idempotency-key': key });
      const res = await send(phone, { purpose: 'other' }, { 'idempotency-key': key });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'idempotency_key_reused' });
    });

    it('concurrent duplicates: one 202, the rest 409 in progress or a replay; never two codes', async () => {
      const phone = uniquePhone();
      const key = `k3-${phone}`;
      const results = await Promise.all(
        Array.from({ length: 15 }, () => send(phone, {}, { 'idempotency-key': key })),
      );
      for (const r of results) {
        expect([202, 409]).toContain(r.status);
        if (r.status === 409) expect(r.body).toMatchObject({ code: 'idempotency_in_progress' });
      }
      const rows = await withDb((db) =>
        db.query('SELECT count(*)::int AS n FROM one_time_codes WHERE phone = $1', [phone]),
      );
      expect(rows.rows[0].n).toBe(1);
    });
  });

  it('a table dump holds neither any issued code nor its unkeyed SHA-256', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { body } = await send(uniquePhone());
      codes.push(await issuedCode(body.id as string));
    }
    const dump = await withDb(async (db) => {
      // The job payloads too, where they lie (graphile-worker's private table): this checks storage.
      const tables = [
        'one_time_codes',
        'delivery_attempts',
        'idempotency_keys',
        'graphile_worker._private_jobs',
      ];
      const parts = await Promise.all(tables.map((tbl) => db.query(`SELECT * FROM ${tbl}`)));
      return JSON.stringify(parts.map((p) => p.rows));
    });
    for (const code of codes) {
      // Six digits could appear by chance inside a uuid or base64 string; codes never appear as values.
      expect(dump).not.toMatch(new RegExp(`"${code}"|:${code}[,}]`));
      expect(dump).not.toContain(createHash('sha256').update(code).digest('hex'));
      expect(dump).not.toContain(createHash('sha256').update(code).digest('base64'));
    }
  });

  it('the logs never contain an issued code, an API key or a full phone number', async () => {
    const phone = uniquePhone();
    const { body } = await send(phone);
    const code = await issuedCode(body.id as string);
    await verify(phone, wrong(code));
    await verify(phone, code);
    const logs = t.logs.join('\n');
    expect(logs).toContain('code issued');
    expect(logs).not.toContain(phone);
    expect(logs).not.toMatch(new RegExp(`\\b${code}\\b`));
    expect(logs).not.toContain('acme-test-key-0123456789');
  });
});
