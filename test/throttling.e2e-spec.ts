import { maskPhone } from '../src/common/phone/phone.js';
import { startApp, type HttpResponse, type TestApp } from './helpers/app.js';
import { issuedCode } from './helpers/codes.js';
import { uniquePhone, withDb } from './helpers/db.js';
import { queuedPayload } from './helpers/queue.js';
import {
  DEAD_REDIS_URL,
  deleteThrottleKeys,
  itWithRedis,
  LOCAL_REDIS_URL,
  throttleKeys,
  uniqueThrottlePrefix,
} from './helpers/redis-throttle.js';

type Body = Record<string, unknown>;

/** The documented defaults, set explicitly (test-env.json relaxes them for the other suites). */
const DEFAULT_LIMITS = {
  THROTTLE_SEND_PER_PHONE_HOUR: '3',
  THROTTLE_SEND_PER_IP_HOUR: '20',
  THROTTLE_VERIFY_PER_PHONE_HOUR: '10',
  THROTTLE_VERIFY_PER_IP_HOUR: '50',
  OTP_GLOBAL_SENDS_PER_MINUTE: '600',
};
const BASE = { DELIVERY_WORKER_ENABLED: 'false', OTP_RESEND_COOLDOWN_SECONDS: '0', ...DEFAULT_LIMITS };

/** A valid Nigerian mobile number: another country than the GH numbers of uniquePhone(). */
const NG_PHONE = '+2348031234567';

let ipCounter = 0;
/** A distinct documentation-range IP per call, so tests never share an IP bucket. */
function uniqueIp(): string {
  ipCounter += 1;
  return `203.0.${Math.floor(ipCounter / 250) + 113}.${(ipCounter % 250) + 1}`;
}

/** `+23324NNNNNNN` → `024NNNNNNN` (national) and `+233 24 NNN NNNN` (spaced). */
function spellings(e164: string): { national: string; spaced: string } {
  const rest = e164.slice(4);
  return {
    national: `0${rest}`,
    spaced: `+233 ${rest.slice(0, 2)} ${rest.slice(2, 5)} ${rest.slice(5)}`,
  };
}

function send(t: TestApp, body: Body, headers: Record<string, string> = {}) {
  return t.request<Body>('POST', '/v1/otp/send', { body, headers });
}
function verify(t: TestApp, body: Body, headers: Record<string, string> = {}) {
  return t.request<Body>('POST', '/v1/otp/verify', { body: { code: '000000', ...body }, headers });
}

/**
 * Per-phone limits (PostgreSQL) answer at most the window; the per-IP limits and caps are
 * sliding-window counters, whose Retry-After reaches up to two windows when the budget was spent
 * early in a fixed window (docs/threat-model.md), so the default bound is two hours.
 */
function expectRateLimited(res: HttpResponse<Body>, throttler: string, maxRetryAfter = 2 * 3600): void {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({
    statusCode: 429,
    code: 'rate_limited',
    message: expect.any(String),
    details: { throttler },
  });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxRetryAfter);
}

async function storedCodes(phone: string): Promise<number> {
  return withDb(async (db) => {
    const res = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM one_time_codes WHERE phone = $1',
      [phone],
    );
    return res.rows[0].n;
  });
}

/** Log lines reach the capture stream asynchronously: poll briefly. */
async function waitForLog(t: TestApp, match: (line: string) => boolean): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    if (t.logs.some(match)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

async function throttledCount(t: TestApp, throttler: string): Promise<number> {
  const res = await t.request('GET', '/metrics', { auth: false });
  const line = res.text
    .split('\n')
    .find((l) => l.startsWith(`otp_throttled_total{throttler="${throttler}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('throttling: default limits, in-memory store', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: BASE });
  });
  afterAll(() => t.close());

  it('send: 3 per phone per hour, the 4th is 429 with Retry-After, nothing stored', async () => {
    const phone = uniquePhone();
    const clientIp = uniqueIp();
    for (let i = 0; i < 3; i++) expect((await send(t, { phone, clientIp })).status).toBe(202);
    const before = await throttledCount(t, 'send-phone');
    const fourth = await send(t, { phone, clientIp });
    expectRateLimited(fourth, 'send-phone');
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(3500);
    expect(await storedCodes(phone)).toBe(3);
    expect(await throttledCount(t, 'send-phone')).toBe(before + 1);
    // Another IP changes nothing: the bucket is the phone's.
    expectRateLimited(await send(t, { phone, clientIp: uniqueIp() }), 'send-phone');
    // Each refusal is logged, with a masked number, never the full one.
    expect(await waitForLog(t, (l) => l.includes('send-phone') && l.includes(maskPhone(phone)))).toBe(true);
    expect(t.logs.filter((l) => l.includes(phone))).toEqual([]);
  });

  it('every spelling of a number, and every purpose, shares one budget', async () => {
    const phone = uniquePhone();
    const { national, spaced } = spellings(phone);
    const clientIp = uniqueIp();
    expect((await send(t, { phone: spaced, clientIp })).status).toBe(202);
    expect((await send(t, { phone: national, defaultCountry: 'GH', clientIp })).status).toBe(202);
    expect((await send(t, { phone: national, clientIp })).status).toBe(202);
    expectRateLimited(await send(t, { phone: `00${phone.slice(1)}`, clientIp }), 'send-phone');
    expectRateLimited(await send(t, { phone: national, defaultCountry: 'GH', clientIp }), 'send-phone');
    // Another purpose shares the phone's budget (API.md A2: purpose never multiplies it).
    expectRateLimited(await send(t, { phone: spaced, purpose: 'reset', clientIp }), 'send-phone');
  });

  it('send: 20 per IP per hour (clientIp), the 21st is 429', async () => {
    const clientIp = uniqueIp();
    for (let i = 0; i < 20; i++) {
      expect((await send(t, { phone: uniquePhone(), clientIp })).status).toBe(202);
    }
    const phone = uniquePhone();
    expectRateLimited(await send(t, { phone, clientIp }), 'send-ip');
    expect(await storedCodes(phone)).toBe(0);
    // The same phone from another IP is fine: the IP bucket was full, not the phone's.
    expect((await send(t, { phone, clientIp: uniqueIp() })).status).toBe(202);
  });

  it('verify: 10 wrong codes per (client, phone) per hour, then 429 even for the right code; sending still works', async () => {
    const phone = uniquePhone();
    // Verifies that find no code count per IP only (API.md A2 clarification), never per phone.
    for (let i = 0; i < 12; i++)
      expect((await verify(t, { phone, clientIp: uniqueIp() })).body).toMatchObject({ code: 'not_found' });
    for (let c = 0; c < 2; c++) {
      const sent = await send(t, { phone, clientIp: uniqueIp() });
      expect(sent.status).toBe(202);
      const code = await issuedCode(sent.body.id as string);
      for (let i = 0; i < 5; i++) {
        const res = await verify(t, {
          phone,
          code: code === '000000' ? '111111' : '000000',
          clientIp: uniqueIp(),
        });
        expect(res.body).toMatchObject({ code: 'invalid_code' });
      }
    }
    // Verify buckets are not send buckets: the victim can still get a code.
    const sent = await send(t, { phone, clientIp: uniqueIp() });
    expect(sent.status).toBe(202);
    const code = await issuedCode(sent.body.id as string);
    const refused = await verify(t, { phone, code, clientIp: uniqueIp() });
    expectRateLimited(refused, 'verify-phone');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3500);
    // Another client's verify budget for the same phone is its own.
    const globex = await t.request<Body>('POST', '/v1/otp/verify', {
      body: { phone, code: '000000', clientIp: uniqueIp() },
      auth: 'globex-test-key-0123456789',
    });
    expect(globex.body).toMatchObject({ code: 'not_found' });
  });

  it('verify: 50 per IP per hour, the 51st is 429', async () => {
    const clientIp = uniqueIp();
    for (let i = 0; i < 50; i++) {
      expect((await verify(t, { phone: uniquePhone(), clientIp })).status).toBe(400);
    }
    expectRateLimited(await verify(t, { phone: uniquePhone(), clientIp }), 'verify-ip');
    expect((await verify(t, { phone: uniquePhone(), clientIp: uniqueIp() })).status).toBe(400);
  });

  it('unauthenticated requests are 401 and not counted', async () => {
    const phone = uniquePhone();
    const clientIp = uniqueIp();
    for (let i = 0; i < 5; i++) {
      const res = await t.request('POST', '/v1/otp/send', { body: { phone, clientIp }, auth: false });
      expect(res.status).toBe(401);
    }
    for (let i = 0; i < 3; i++) expect((await send(t, { phone, clientIp })).status).toBe(202);
  });

  it('a phone that does not normalise is 400 invalid_phone, never a 429 or a 500', async () => {
    const clientIp = uniqueIp();
    for (let i = 0; i < 4; i++) {
      const res = await send(t, { phone: 'not a phone', clientIp });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_phone' });
    }
  });
});

describe('throttling: client IP and X-Forwarded-For', () => {
  const env = { ...BASE, THROTTLE_SEND_PER_IP_HOUR: '2' };

  it('without TRUST_PROXY a spoofed X-Forwarded-For is ignored (the socket address counts)', async () => {
    const t = await startApp({ env: { ...env, TRUST_PROXY: 'false' } });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await send(t, { phone: uniquePhone() }, { 'x-forwarded-for': uniqueIp() });
        expect(res.status).toBe(202);
      }
      const res = await send(t, { phone: uniquePhone() }, { 'x-forwarded-for': uniqueIp() });
      expectRateLimited(res, 'send-ip');
      // clientIp from the calling backend still separates end users.
      expect((await send(t, { phone: uniquePhone(), clientIp: uniqueIp() })).status).toBe(202);
    } finally {
      await t.close();
    }
  });

  // TRUST_PROXY's forms (hop count, CIDRs; `true` refused) are tested in test/client-ip.e2e-spec.ts.

  it('IP buckets belong to one calling client; phone buckets are global', async () => {
    const t = await startApp({ env });
    try {
      const clientIp = uniqueIp();
      for (let i = 0; i < 2; i++)
        expect((await send(t, { phone: uniquePhone(), clientIp })).status).toBe(202);
      expectRateLimited(await send(t, { phone: uniquePhone(), clientIp }), 'send-ip');
      const globex = await t.request('POST', '/v1/otp/send', {
        body: { phone: uniquePhone(), clientIp },
        auth: 'globex-test-key-0123456789',
      });
      expect(globex.status).toBe(202);
    } finally {
      await t.close();
    }
  });
});

describe('throttling: Redis store shared by replicas', () => {
  const prefix = uniqueThrottlePrefix();
  afterAll(() => deleteThrottleKeys(prefix));

  itWithRedis('two instances sharing Redis enforce one limit', async () => {
    const env = { ...BASE, REDIS_URL: LOCAL_REDIS_URL, THROTTLE_REDIS_PREFIX: prefix };
    const a = await startApp({ env });
    const b = await startApp({ env });
    try {
      const phone = uniquePhone();
      const { national } = spellings(phone);
      expect((await send(a, { phone, clientIp: uniqueIp() })).status).toBe(202);
      expect((await send(b, { phone: national, clientIp: uniqueIp() })).status).toBe(202);
      expect((await send(a, { phone, clientIp: uniqueIp() })).status).toBe(202);
      expectRateLimited(await send(b, { phone, clientIp: uniqueIp() }), 'send-phone');
      expectRateLimited(await send(a, { phone: national, clientIp: uniqueIp() }), 'send-phone');
      expect(await storedCodes(phone)).toBe(3);
      // Redis holds keyed hashes, never the number.
      const keys = await throttleKeys(prefix);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => k.includes(phone.slice(1)) || k.includes(national))).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('Redis down: boots, send fails closed with 503 fast, verify falls back to per-instance limits', async () => {
    const started = Date.now();
    const t = await startApp({
      env: { ...BASE, REDIS_URL: DEAD_REDIS_URL, THROTTLE_VERIFY_PER_IP_HOUR: '2' },
    });
    try {
      expect(Date.now() - started).toBeLessThan(10_000);
      const phone = uniquePhone();
      const t0 = Date.now();
      const sent = await send(t, { phone, clientIp: uniqueIp() });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(sent.status).toBe(503);
      expect(sent.body).toMatchObject({ statusCode: 503, code: 'service_unavailable' });
      expect(sent.headers.get('retry-after')).toBe('5');
      expect(await storedCodes(phone)).toBe(0);
      // Verify keeps working on memory limits, which still trip at their count.
      const clientIp = uniqueIp();
      expect((await verify(t, { phone, clientIp })).status).toBe(400);
      expect((await verify(t, { phone, clientIp })).status).toBe(400);
      expectRateLimited(await verify(t, { phone, clientIp }), 'verify-ip');
      expect((await t.request('GET', '/health/live', { auth: false })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('throttling: anti-pumping', () => {
  it('OTP_ALLOWED_COUNTRIES refuses other countries with 403 country_not_allowed', async () => {
    const t = await startApp({ env: { ...BASE, OTP_ALLOWED_COUNTRIES: 'GH,CI' } });
    try {
      const before = await throttledCount(t, 'country-not-allowed');
      const res = await send(t, { phone: NG_PHONE, clientIp: uniqueIp() });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        statusCode: 403,
        code: 'country_not_allowed',
        message: expect.any(String),
        details: { country: 'NG' },
      });
      expect(await throttledCount(t, 'country-not-allowed')).toBe(before + 1);
      expect(await storedCodes(NG_PHONE)).toBe(0);
      expect(t.logs.filter((l) => l.includes(NG_PHONE))).toEqual([]);
      expect((await send(t, { phone: uniquePhone(), clientIp: uniqueIp() })).status).toBe(202);
    } finally {
      await t.close();
    }
  });

  it('OTP_COUNTRY_HOURLY_LIMIT caps one country per hour; others go on', async () => {
    const t = await startApp({ env: { ...BASE, OTP_COUNTRY_HOURLY_LIMIT: '{"GH":3}' } });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await send(t, { phone: uniquePhone(), clientIp: uniqueIp() })).status).toBe(202);
      }
      const phone = uniquePhone();
      expectRateLimited(await send(t, { phone, clientIp: uniqueIp() }), 'country-cap');
      expect(await storedCodes(phone)).toBe(0);
      expect((await send(t, { phone: NG_PHONE, clientIp: uniqueIp() })).status).toBe(202);
    } finally {
      await t.close();
    }
  });

  it('OTP_GLOBAL_SENDS_PER_MINUTE is the last fuse', async () => {
    const t = await startApp({ env: { ...BASE, OTP_GLOBAL_SENDS_PER_MINUTE: '4' } });
    try {
      for (let i = 0; i < 4; i++) {
        expect((await send(t, { phone: uniquePhone(), clientIp: uniqueIp() })).status).toBe(202);
      }
      const res = await send(t, { phone: uniquePhone(), clientIp: uniqueIp() });
      // A rolling minute (sliding-window counter): at most the window plus a quarter of it here.
      expectRateLimited(res, 'global-cap', 75);
      expect(await throttledCount(t, 'global-cap')).toBe(1);
    } finally {
      await t.close();
    }
  });
});

describe('throttling: test numbers', () => {
  const testPhone = uniquePhone();
  const TEST_CODE = '246810';
  const numbers = JSON.stringify({ [testPhone]: TEST_CODE });

  it('enabled: the fixed code verifies, and the delivery job carries no code', async () => {
    const t = await startApp({
      env: {
        ...BASE,
        OTP_TEST_NUMBERS: numbers,
        OTP_TEST_NUMBERS_ENABLED: 'true',
        OTP_ALLOWED_COUNTRIES: 'CI',
      },
    });
    try {
      // Test numbers are never sent, so the pumping rules (here: GH not allowed) do not apply.
      const sent = await send(t, { phone: spellings(testPhone).national, clientIp: uniqueIp() });
      expect(sent.status).toBe(202);
      const payload = await queuedPayload<{ c: string }>(sent.body.id as string);
      expect(payload?.c).toBe('test-number');
      const ok = await verify(t, { phone: testPhone, code: TEST_CODE, clientIp: uniqueIp() });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ verified: true, id: sent.body.id });
    } finally {
      await t.close();
    }
  });

  it('disabled: the number is an ordinary number with a random code', async () => {
    const t = await startApp({
      env: { ...BASE, OTP_TEST_NUMBERS: numbers, OTP_TEST_NUMBERS_ENABLED: 'false' },
    });
    try {
      const sent = await send(t, { phone: testPhone, clientIp: uniqueIp() });
      expect(sent.status).toBe(202);
      const code = await issuedCode(sent.body.id as string);
      expect(code).toMatch(/^\d{6}$/);
      if (code !== TEST_CODE) {
        const res = await verify(t, { phone: testPhone, code: TEST_CODE, clientIp: uniqueIp() });
        expect(res.body).toMatchObject({ code: 'invalid_code' });
      }
    } finally {
      await t.close();
    }
  });
});
