import { OtpThrottlerStorage } from '../src/throttling/throttler-storage.js';
import { startApp, type HttpResponse, type TestApp } from './helpers/app.js';
import { issuedCode } from './helpers/codes.js';
import { uniquePhone, withDb } from './helpers/db.js';
import {
  deleteThrottleKeys,
  itWithRedis,
  LOCAL_REDIS_URL,
  uniqueThrottlePrefix,
} from './helpers/redis-throttle.js';
import { TEST_ENV } from './setup/test-env.js';

/**
 * The attacks of issue 14 (findings 1-5, 10), each replayed against the service: tenant isolation
 * of codes, per-phone limits that hold under floods, restarts and replicas, purpose multiplication,
 * parallel sends, rolling windows, the consecutive-failure lockout and idempotent retries.
 * docs/threat-model.md maps each one to the limit that stops it.
 */
type Body = Record<string, unknown>;

const GLOBEX = 'globex-test-key-0123456789';
const HOUR_S = 3600;
const MINUTE_MS = 60_000;
/** The documented defaults (test-env.json relaxes them for the other suites). */
const DEFAULTS = {
  DELIVERY_WORKER_ENABLED: 'false',
  OTP_RESEND_COOLDOWN_SECONDS: '0',
  THROTTLE_SEND_PER_PHONE_HOUR: '3',
  THROTTLE_SEND_PER_IP_HOUR: '20',
  THROTTLE_VERIFY_PER_PHONE_HOUR: '10',
  THROTTLE_VERIFY_PER_IP_HOUR: '50',
  OTP_GLOBAL_SENDS_PER_MINUTE: '600',
};

let ipCounter = 0;
/** A distinct documentation-range IP per call, so only the limit under test can refuse. */
function uniqueIp(): string {
  ipCounter += 1;
  return `198.51.${Math.floor(ipCounter / 250) + 100}.${(ipCounter % 250) + 1}`;
}

function send(t: TestApp, body: Body, options: { auth?: string; headers?: Record<string, string> } = {}) {
  return t.request<Body>('POST', '/v1/otp/send', {
    body: { clientIp: uniqueIp(), ...body },
    auth: options.auth,
    headers: options.headers,
  });
}
function verify(t: TestApp, body: Body, auth?: string) {
  return t.request<Body>('POST', '/v1/otp/verify', { body: { clientIp: uniqueIp(), ...body }, auth });
}
const wrongOf = (code: string) => (code === '000000' ? '111111' : '000000');

function expectRefused(res: HttpResponse<Body>, code: string, throttler?: string): number {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ statusCode: 429, code, ...(throttler ? { details: { throttler } } : {}) });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  return retryAfter;
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

/** Sends a code to `phone` and answers it with `n` wrong codes (at most OTP_MAX_ATTEMPTS per code). */
async function wrongGuesses(t: TestApp, phone: string, n: number, auth?: string): Promise<void> {
  const sent = await send(t, { phone }, { auth });
  expect(sent.status).toBe(202);
  const code = await issuedCode(sent.body.id as string);
  for (let i = 0; i < n; i++) {
    expect((await verify(t, { phone, code: wrongOf(code) }, auth)).body).toMatchObject({
      code: 'invalid_code',
    });
  }
}

describe('abuse: codes belong to their client (A1, finding 2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: { ...DEFAULTS, OTP_RESEND_COOLDOWN_SECONDS: '60' } });
  });
  afterAll(() => t.close());

  it('client B can neither verify, burn, cancel, read nor learn the cooldown of A’s code; A’s right code verifies', async () => {
    const phone = uniquePhone();
    const a = await send(t, { phone });
    expect(a.status).toBe(202);
    const code = await issuedCode(a.body.id as string);

    // B presents A's right code: A's code does not exist for B.
    expect((await verify(t, { phone, code }, GLOBEX)).body).toMatchObject({
      verified: false,
      code: 'not_found',
    });
    // B's wrong guesses burn nothing of A's.
    for (let i = 0; i < 6; i++) {
      expect((await verify(t, { phone, code: wrongOf(code) }, GLOBEX)).body).toMatchObject({
        code: 'not_found',
      });
    }
    // B reads nothing of A's code.
    const read = await t.request<Body>('GET', `/v1/otp/${a.body.id as string}`, { auth: GLOBEX });
    expect(read.status).toBe(404);
    // B's send inside A's cooldown is not told about A's send, and cancels nothing of A's.
    const b = await send(t, { phone }, { auth: GLOBEX });
    expect(b.status).toBe(202);
    expect(b.body).toMatchObject({ attemptsRemaining: 5 });

    const status = await t.request<Body>('GET', `/v1/otp/${a.body.id as string}`);
    expect(status.body).toMatchObject({ status: 'pending', attempts: 0, attemptsRemaining: 5 });
    const ok = await verify(t, { phone, code });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ verified: true, id: a.body.id });
    // And A's code never verified B's: B's own code is still pending.
    const bStatus = await t.request<Body>('GET', `/v1/otp/${b.body.id as string}`, { auth: GLOBEX });
    expect(bStatus.body).toMatchObject({ status: 'pending' });
  });

  it('a burnt code is no shortcut to a new one: the resend cooldown applies after it too (finding 5)', async () => {
    const phone = uniquePhone();
    const sent = await send(t, { phone });
    const code = await issuedCode(sent.body.id as string);
    for (let i = 0; i < 5; i++) await verify(t, { phone, code: wrongOf(code) });
    expect((await verify(t, { phone, code })).body).toMatchObject({ code: 'max_attempts_reached' });
    const again = await send(t, { phone });
    expectRefused(again, 'resend_cooldown');
    expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    t.clock.advance(61_000);
    expect((await send(t, { phone })).status).toBe(202);
  });

  it('no client can lock a phone for another: 11 verifies by B (no code, then wrong codes) leave A’s right code working (finding 3)', async () => {
    const phone = uniquePhone();
    for (let i = 0; i < 11; i++) {
      expect((await verify(t, { phone, code: '123456' }, GLOBEX)).body).toMatchObject({ code: 'not_found' });
    }
    // B even exhausts its own per-(client, phone) verify limit with wrong codes of its own codes.
    await wrongGuesses(t, phone, 5, GLOBEX);
    t.clock.advance(61_000); // past the resend cooldown that follows B's burnt code
    await wrongGuesses(t, phone, 5, GLOBEX);
    expectRefused(await verify(t, { phone, code: '123456' }, GLOBEX), 'rate_limited', 'verify-phone');

    const a = await send(t, { phone });
    expect(a.status).toBe(202);
    const ok = await verify(t, { phone, code: await issuedCode(a.body.id as string) });
    expect(ok.status).toBe(200);
  });
});

describe('abuse: the per-phone send budget (A2, Decisions 1-2, findings 4 and 10)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: DEFAULTS });
  });
  afterAll(() => t.close());

  it('8 purposes reach the phone exactly 3 times (purpose never multiplies the budget)', async () => {
    const phone = uniquePhone();
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await send(t, { phone, purpose: `purpose-${i}` }));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 429, 429, 429, 429, 429]);
    for (const r of results.slice(3)) expectRefused(r, 'rate_limited', 'send-phone');
    expect(await storedCodes(phone)).toBe(3);
  });

  it.each([
    ['uppercase', 'Login'],
    ['a dot', 'sign.up'],
    ['33 characters', 'a'.repeat(33)],
    ['a space', 'log in'],
  ])('purpose with %s is 400 invalid_request, on send and verify (Decision 8)', async (_label, purpose) => {
    const phone = uniquePhone();
    for (const path of ['/v1/otp/send', '/v1/otp/verify']) {
      const res = await t.request<Body>('POST', path, { body: { phone, code: '123456', purpose } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request', details: { purpose: expect.any(String) } });
    }
    expect(await storedCodes(phone)).toBe(0);
    // 32 characters of [a-z0-9_-] are fine.
    expect((await send(t, { phone, purpose: 'a-z_0-9'.padEnd(32, 'x') })).status).toBe(202);
  });

  it('20 parallel sends to one phone, spread over two replicas without Redis, accept exactly 3', async () => {
    const replica = await startApp({ env: DEFAULTS });
    try {
      const phone = uniquePhone();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => send(i % 2 ? replica : t, { phone, purpose: `p${i % 4}` })),
      );
      expect(results.filter((r) => r.status === 202)).toHaveLength(3);
      expect(results.filter((r) => r.status === 429)).toHaveLength(17);
      expect(await storedCodes(phone)).toBe(3);
      // The same purpose, in parallel on one replica: still 3 at most (here: none left).
      const more = await Promise.all(Array.from({ length: 5 }, () => send(t, { phone })));
      expect(more.map((r) => r.status)).toEqual([429, 429, 429, 429, 429]);
    } finally {
      await replica.close();
    }
  });

  it('20 parallel sends of one client, phone and purpose accept exactly 3 (serialised per phone)', async () => {
    const phone = uniquePhone();
    const results = await Promise.all(Array.from({ length: 20 }, () => send(t, { phone })));
    expect(results.filter((r) => r.status === 202)).toHaveLength(3);
    expect(await storedCodes(phone)).toBe(3);
  });

  it('the budget is shared across clients; a refusal caused by other clients says the full window', async () => {
    const phone = uniquePhone();
    for (let i = 0; i < 3; i++) expect((await send(t, { phone })).status).toBe(202);
    const other = await send(t, { phone }, { auth: GLOBEX });
    expectRefused(other, 'rate_limited', 'send-phone');
    expect(other.headers.get('retry-after')).toBe(String(HOUR_S));
    expect(other.body).toMatchObject({ details: { retryAfterSeconds: HOUR_S } });
  });

  it('THROTTLE_SEND_PER_PHONE_SCOPE=client counts per (client, phone)', async () => {
    const scoped = await startApp({ env: { ...DEFAULTS, THROTTLE_SEND_PER_PHONE_SCOPE: 'client' } });
    try {
      const phone = uniquePhone();
      for (let i = 0; i < 3; i++) expect((await send(scoped, { phone })).status).toBe(202);
      expectRefused(await send(scoped, { phone }), 'rate_limited', 'send-phone');
      expect((await send(scoped, { phone }, { auth: GLOBEX })).status).toBe(202);
    } finally {
      await scoped.close();
    }
  });

  it('idempotent retries are replayed, never throttled and never counted (finding 10)', async () => {
    const limited = await startApp({ env: { ...DEFAULTS, THROTTLE_SEND_PER_IP_HOUR: '2' } });
    try {
      const phone = uniquePhone();
      const clientIp = uniqueIp();
      const body = { phone, clientIp };
      const headers = { 'idempotency-key': `retry-${phone}` };
      const first = await send(limited, body, { headers });
      expect(first.status).toBe(202);
      for (let i = 0; i < 5; i++) {
        const retry = await send(limited, body, { headers });
        expect(retry.status).toBe(202);
        expect(retry.headers.get('idempotent-replayed')).toBe('true');
        expect(retry.body).toEqual(first.body);
      }
      expect(await storedCodes(phone)).toBe(1);
      // The retries used neither the IP's budget (2: one left) nor the phone's (3: two left).
      expect((await send(limited, { phone, clientIp })).status).toBe(202);
      expectRefused(await send(limited, { phone, clientIp }), 'rate_limited', 'send-ip');
      expect((await send(limited, { phone })).status).toBe(202);
      expectRefused(await send(limited, { phone }), 'rate_limited', 'send-phone');
    } finally {
      await limited.close();
    }
  });

  it('a send refused by the per-phone limit leaves the per-IP budget as it was (Decision 4)', async () => {
    const limited = await startApp({ env: { ...DEFAULTS, THROTTLE_SEND_PER_IP_HOUR: '2' } });
    try {
      const full = uniquePhone();
      for (let i = 0; i < 3; i++) expect((await send(limited, { phone: full })).status).toBe(202);
      const clientIp = uniqueIp();
      for (let i = 0; i < 5; i++) {
        expectRefused(await send(limited, { phone: full, clientIp }), 'rate_limited', 'send-phone');
      }
      expect((await send(limited, { phone: uniquePhone(), clientIp })).status).toBe(202);
      expect((await send(limited, { phone: uniquePhone(), clientIp })).status).toBe(202);
      expectRefused(await send(limited, { phone: uniquePhone(), clientIp }), 'rate_limited', 'send-ip');
    } finally {
      await limited.close();
    }
  });
});

describe('abuse: parallel guesses count exactly (Decision 2)', () => {
  it('50 parallel wrong codes count OTP_MAX_ATTEMPTS failures, no more', async () => {
    const t = await startApp({
      env: { ...DEFAULTS, OTP_MAX_CONSECUTIVE_FAILURES: '6', OTP_LOCKOUT_SECONDS: '600' },
    });
    try {
      const phone = uniquePhone();
      const sent = await send(t, { phone });
      const code = await issuedCode(sent.body.id as string);
      const results = await Promise.all(
        Array.from({ length: 50 }, () => verify(t, { phone, code: wrongOf(code) })),
      );
      expect(results.filter((r) => r.body.code === 'invalid_code')).toHaveLength(5);
      // 5 failures in a row, under the cap of 6: a new code still verifies.
      const next = await send(t, { phone });
      expect((await verify(t, { phone, code: await issuedCode(next.body.id as string) })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('abuse: the verify limits are counted on the code rows (one row written per wrong code)', () => {
  it('wrong codes under the cap write only their own code row: its failed_at, no verify_guards row', async () => {
    const t = await startApp({ env: DEFAULTS });
    try {
      const phone = uniquePhone();
      await wrongGuesses(t, phone, 4);
      const rows = await withDb(async (db) => ({
        failures: (
          await db.query<{ n: number }>(
            'SELECT cardinality(failed_at)::int AS n FROM one_time_codes WHERE phone = $1',
            [phone],
          )
        ).rows.map((r) => r.n),
        guards: (await db.query('SELECT 1 FROM verify_guards WHERE phone = $1', [phone])).rowCount,
      }));
      expect(rows).toEqual({ failures: [4], guards: 0 });
    } finally {
      await t.close();
    }
  });

  it('parallel wrong codes against four purposes at once count exactly THROTTLE_VERIFY_PER_PHONE_HOUR', async () => {
    const t = await startApp({
      env: { ...DEFAULTS, THROTTLE_SEND_PER_PHONE_HOUR: '100', OTP_MAX_CONSECUTIVE_FAILURES: '100' },
    });
    try {
      const phone = uniquePhone();
      const purposes = ['login', 'signup', 'reset', 'payment'];
      const wrong: Record<string, string> = {};
      for (const purpose of purposes) {
        const sent = await send(t, { phone, purpose });
        expect(sent.status).toBe(202);
        wrong[purpose] = wrongOf(await issuedCode(sent.body.id as string));
      }
      // 4 codes × 5 attempts could take 20 wrong codes; the (client, phone) takes 10 an hour.
      const results = await Promise.all(
        purposes.flatMap((purpose) =>
          Array.from({ length: 8 }, () => verify(t, { phone, purpose, code: wrong[purpose] })),
        ),
      );
      const codes = results.map((r) => r.body.code);
      expect(codes.filter((c) => c === 'invalid_code')).toHaveLength(10);
      expect(
        codes.filter((c) => c !== 'invalid_code' && c !== 'rate_limited' && c !== 'max_attempts_reached'),
      ).toEqual([]);
      const stored = await withDb(async (db) =>
        db.query<{ n: number }>(
          'SELECT sum(cardinality(failed_at))::int AS n, sum(attempts)::int AS a FROM one_time_codes WHERE phone = $1',
          [phone],
        ),
      );
      expect(stored.rows[0]).toEqual({ n: 10, a: 10 });
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('abuse: rolling windows (finding 5)', () => {
  it('the per-phone send and verify limits count any 60-minute span, across a boundary', async () => {
    const t = await startApp({ env: DEFAULTS });
    try {
      const phone = uniquePhone();
      // Two sends at t0, one at t0 + 30 min: a fourth is refused until t0 + 60 min.
      expect((await send(t, { phone })).status).toBe(202);
      expect((await send(t, { phone })).status).toBe(202);
      t.clock.advance(30 * MINUTE_MS);
      expect((await send(t, { phone })).status).toBe(202);
      t.clock.advance(29 * MINUTE_MS);
      const retryAfter = expectRefused(await send(t, { phone }), 'rate_limited', 'send-phone');
      expect(retryAfter).toBeLessThanOrEqual(60);
      t.clock.advance(2 * MINUTE_MS);
      // t0 + 61 min: the two sends of t0 have left the window; the one of t0 + 30 min has not.
      expect((await send(t, { phone })).status).toBe(202);
      expect((await send(t, { phone })).status).toBe(202);
      expectRefused(await send(t, { phone }), 'rate_limited', 'send-phone');

      // Verify: 10 wrong codes just before a boundary and 10 just after cannot both happen.
      const other = uniquePhone();
      await wrongGuesses(t, other, 5);
      await wrongGuesses(t, other, 5);
      t.clock.advance(2 * MINUTE_MS);
      const sent = await send(t, { phone: other });
      expect(sent.status).toBe(202);
      expectRefused(await verify(t, { phone: other, code: '000000' }), 'rate_limited', 'verify-phone');
      t.clock.advance(HOUR_S * 1000);
      const fresh = await send(t, { phone: other });
      const ok = await verify(t, { phone: other, code: await issuedCode(fresh.body.id as string) });
      expect(ok.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('abuse: consecutive failures (A2, Decision 3, finding 5)', () => {
  /** A lockout after 3 consecutive failures, for 10 minutes. */
  const LOCKOUT_AT_3 = { ...DEFAULTS, OTP_MAX_CONSECUTIVE_FAILURES: '3', OTP_LOCKOUT_SECONDS: '600' };

  it('locks the (client, phone) after OTP_MAX_CONSECUTIVE_FAILURES across several codes; each later failure re-arms it; a success resets', async () => {
    const t = await startApp({
      env: {
        ...DEFAULTS,
        THROTTLE_SEND_PER_PHONE_HOUR: '1000',
        THROTTLE_VERIFY_PER_PHONE_HOUR: '1000',
        OTP_MAX_CONSECUTIVE_FAILURES: '7',
        OTP_LOCKOUT_SECONDS: '600',
      },
    });
    try {
      const phone = uniquePhone();
      // A success resets the count: 6 wrong, 1 right, 6 wrong is never 7 in a row.
      await wrongGuesses(t, phone, 5);
      const s1 = await send(t, { phone });
      const c1 = await issuedCode(s1.body.id as string);
      expect((await verify(t, { phone, code: wrongOf(c1) })).status).toBe(400);
      expect((await verify(t, { phone, code: c1 })).status).toBe(200);
      await wrongGuesses(t, phone, 5);
      // Failures 6 and 7 in a row, on a third code: the 7th locks.
      const s2 = await send(t, { phone });
      const c2 = await issuedCode(s2.body.id as string);
      expect((await verify(t, { phone, code: wrongOf(c2) })).status).toBe(400);
      expect((await verify(t, { phone, code: wrongOf(c2) })).status).toBe(400);
      const locked = await verify(t, { phone, code: c2 });
      const retryAfter = expectRefused(locked, 'too_many_failures');
      expect(retryAfter).toBeGreaterThan(590);
      expect(retryAfter).toBeLessThanOrEqual(600);
      // A verify outcome on verify (`verified: false`), a plain refusal on send.
      expect(locked.body).toMatchObject({ verified: false, details: { retryAfterSeconds: retryAfter } });
      const lockedSend = await send(t, { phone });
      expectRefused(lockedSend, 'too_many_failures');
      expect(lockedSend.body).not.toHaveProperty('verified');
      // Another client's codes for the same phone are not locked.
      const globex = await send(t, { phone }, { auth: GLOBEX });
      expect(globex.status).toBe(202);
      expect(
        (await verify(t, { phone, code: await issuedCode(globex.body.id as string) }, GLOBEX)).status,
      ).toBe(200);

      // After the lockout: one guess; wrong, it re-arms the lockout at once.
      t.clock.advance(601_000);
      const s3 = await send(t, { phone });
      expect(s3.status).toBe(202);
      const c3 = await issuedCode(s3.body.id as string);
      expect((await verify(t, { phone, code: wrongOf(c3) })).body).toMatchObject({ code: 'invalid_code' });
      expectRefused(await verify(t, { phone, code: c3 }), 'too_many_failures');
      // After the next lockout: a right code verifies and resets the count.
      t.clock.advance(601_000);
      const s4 = await send(t, { phone });
      expect((await verify(t, { phone, code: await issuedCode(s4.body.id as string) })).status).toBe(200);
      await wrongGuesses(t, phone, 5);
      const s5 = await send(t, { phone });
      const c5 = await issuedCode(s5.body.id as string);
      expect((await verify(t, { phone, code: wrongOf(c5) })).status).toBe(400);
      expect((await verify(t, { phone, code: c5 })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('parallel wrong codes on a (client, phone) with a guard row count exactly up to the cap, with no deadlock (no 5xx)', async () => {
    // A guard row outlives a reset (a right code after a wrong one). Every attempt then takes the
    // full statement; with its guard read FOR SHARE, two of them deadlocked (the code row against
    // the guard upsert) and PostgreSQL aborted one: a 500 after deadlock_timeout.
    const t = await startApp({ env: LOCKOUT_AT_3 });
    try {
      const phones = Array.from({ length: 6 }, () => uniquePhone());
      const wrong: Record<string, string> = {};
      for (const phone of phones) {
        const first = await send(t, { phone });
        const firstCode = await issuedCode(first.body.id as string);
        expect((await verify(t, { phone, code: wrongOf(firstCode) })).status).toBe(400);
        expect((await verify(t, { phone, code: firstCode })).status).toBe(200);
      }
      t.clock.advance(2 * MINUTE_MS);
      for (const phone of phones) {
        const second = await send(t, { phone });
        wrong[phone] = wrongOf(await issuedCode(second.body.id as string));
      }
      // 16 parallel wrong codes per phone, all six phones at once.
      const results = await Promise.all(
        phones.map((phone) =>
          Promise.all(Array.from({ length: 16 }, () => verify(t, { phone, code: wrong[phone] }))),
        ),
      );
      for (const perPhone of results) {
        expect(perPhone.map((r) => r.status).sort()).toEqual([...Array(3).fill(400), ...Array(13).fill(429)]);
        for (const r of perPhone.filter((x) => x.status === 429)) expectRefused(r, 'too_many_failures');
      }
    } finally {
      await t.close();
    }
  });

  it('a code issued before the lockout and never guessed at is locked too, its right code as well', async () => {
    // A code with no wrong code of its own, and (below) no other code's failures left to count:
    // only the guard row holds the lockout.
    const t = await startApp({ env: LOCKOUT_AT_3 });
    try {
      const phone = uniquePhone();
      const fresh = await send(t, { phone, purpose: 'signup' });
      const freshCode = await issuedCode(fresh.body.id as string);
      const guessed = await send(t, { phone, purpose: 'login' });
      const wrong = wrongOf(await issuedCode(guessed.body.id as string));
      for (let i = 0; i < 3; i++) await verify(t, { phone, purpose: 'login', code: wrong });
      // The guessed code gone (as retention deletes codes): only the guard row holds the lockout,
      // so no other code's failures send the fresh code's attempt down the full statement.
      await withDb((db) => db.query(`DELETE FROM one_time_codes WHERE id = $1`, [guessed.body.id]));
      for (const code of [freshCode, wrongOf(freshCode)]) {
        expectRefused(await verify(t, { phone, purpose: 'signup', code }), 'too_many_failures');
      }
      await withDb(async (db) => {
        const row = await db.query(`SELECT attempts FROM one_time_codes WHERE id = $1`, [fresh.body.id]);
        expect(row.rows[0].attempts).toBe(0);
      });
    } finally {
      await t.close();
    }
  });
});

describe('abuse: per-phone limits survive floods, restarts and replicas without Redis (finding 1)', () => {
  const FLOOD = 100_001;

  it(`a flood of ${FLOOD} other phones, a restart and a second replica leave the victim’s limits intact`, async () => {
    const victim = uniquePhone();
    let t = await startApp({ env: DEFAULTS });
    try {
      // The victim: two codes sent, ten wrong codes.
      await wrongGuesses(t, victim, 5);
      await wrongGuesses(t, victim, 5);

      // The flood, driven cheaply: more distinct phones than the in-memory bound, written into
      // the same per-phone tables the statements count in, and pushed through the throttle store
      // the way refused requests did (every distinct key a new counter) ...
      await withDb(async (db) => {
        await db.query(
          `INSERT INTO phone_send_counters (key, sent_at, sent_by, updated_at)
           SELECT '+23320' || lpad(g::text, 7, '0'), ARRAY[now()], ARRAY['acme'], now() FROM generate_series(1, $1) g
           ON CONFLICT DO NOTHING`,
          [FLOOD],
        );
        await db.query(
          `INSERT INTO verify_guards (client, phone, failures, consecutive_failures, updated_at)
           SELECT 'acme', '+23320' || lpad(g::text, 7, '0'), ARRAY[now()], 1, now() FROM generate_series(1, $1) g
           ON CONFLICT DO NOTHING`,
          [FLOOD],
        );
      });
      const storage = t.app.get(OtpThrottlerStorage, { strict: false });
      for (let i = 0; i < FLOOD; i++) storage.memory.hit(`flood:${i}`, HOUR_S * 1000, 3);
      // ... plus real requests with distinct phones from one IP, refused for that IP.
      const floodIp = uniqueIp();
      const floods = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          verify(t, { phone: `+23320${String(i).padStart(7, '0')}`, code: '000000', clientIp: floodIp }),
        ),
      );
      expect(floods.filter((r) => r.status === 429)).toHaveLength(10);

      // The victim gets one more code (3rd), no 4th; and no 11th guess, even with the right code.
      const third = await send(t, { phone: victim });
      expect(third.status).toBe(202);
      const code = await issuedCode(third.body.id as string);
      const expectVictimHolds = async (app: TestApp) => {
        expectRefused(await send(app, { phone: victim }), 'rate_limited', 'send-phone');
        expectRefused(await verify(app, { phone: victim, code }), 'rate_limited', 'verify-phone');
      };
      await expectVictimHolds(t);

      // A restart on the same database.
      await t.close();
      t = await startApp({ env: DEFAULTS });
      await expectVictimHolds(t);
      // A second replica beside it, no Redis.
      const replica = await startApp({ env: DEFAULTS });
      try {
        await expectVictimHolds(replica);
        await expectVictimHolds(t);
      } finally {
        await replica.close();
      }
      expect(await storedCodes(victim)).toBe(3);
    } finally {
      await t.close();
      await withDb((db) => db.query(`DELETE FROM verify_guards WHERE phone LIKE '+23320%'`));
      await withDb((db) => db.query(`DELETE FROM phone_send_counters WHERE key LIKE '+23320%'`));
    }
  }, 120_000);
});

describe('abuse: rotating OTP_HASH_SECRET resets no limit (finding 12, throttle keys)', () => {
  const prefix = uniqueThrottlePrefix();
  afterAll(() => deleteThrottleKeys(prefix));

  itWithRedis('per-IP buckets in Redis hold across `old` → `new,old` → `old,new`', async () => {
    const old = TEST_ENV.OTP_HASH_SECRET;
    const next = 'rotated-hash-secret-0123456789abcdefghijklmnopqrstuvwxyz';
    const env = {
      ...DEFAULTS,
      THROTTLE_SEND_PER_IP_HOUR: '2',
      REDIS_URL: LOCAL_REDIS_URL,
      THROTTLE_REDIS_PREFIX: prefix,
    };
    const clientIp = uniqueIp();
    const first = await startApp({ env: { ...env, OTP_HASH_SECRET: old } });
    try {
      expect((await send(first, { phone: uniquePhone(), clientIp })).status).toBe(202);
      expect((await send(first, { phone: uniquePhone(), clientIp })).status).toBe(202);
      expectRefused(await send(first, { phone: uniquePhone(), clientIp }), 'rate_limited', 'send-ip');
    } finally {
      await first.close();
    }
    for (const secrets of [`${next},${old}`, `${old},${next}`]) {
      const rotated = await startApp({ env: { ...env, OTP_HASH_SECRET: secrets } });
      try {
        expectRefused(await send(rotated, { phone: uniquePhone(), clientIp }), 'rate_limited', 'send-ip');
        // Other IPs are untouched.
        expect((await send(rotated, { phone: uniquePhone() })).status).toBe(202);
      } finally {
        await rotated.close();
      }
    }
  });
});

describe('abuse: test numbers count toward the per-phone send limit (Decision 2)', () => {
  it('a test number gets 3 codes an hour, like any number', async () => {
    const testPhone = uniquePhone();
    const t = await startApp({
      env: {
        ...DEFAULTS,
        OTP_TEST_NUMBERS: JSON.stringify({ [testPhone]: '246810' }),
        OTP_TEST_NUMBERS_ENABLED: 'true',
      },
    });
    try {
      for (let i = 0; i < 3; i++) expect((await send(t, { phone: testPhone })).status).toBe(202);
      expectRefused(await send(t, { phone: testPhone }), 'rate_limited', 'send-phone');
    } finally {
      await t.close();
    }
  });
});
