import { randomUUID } from 'node:crypto';
import { RetentionScheduler } from '../src/delivery/retention.js';
import { startApp, type TestApp } from './helpers/app.js';
import { issuedCode } from './helpers/codes.js';
import { uniquePhone, withDb } from './helpers/db.js';
import { TEST_ENV } from './setup/test-env.js';

const NEW_SECRET = 'rotated-hash-secret-abcdefghijklmnopqrstuvwxyz012345';

describe('OTP maintenance', () => {
  it('rotating OTP_HASH_SECRET to "new,old" keeps codes issued under the old key verifiable', async () => {
    const phone = uniquePhone();
    const before = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' } });
    const { body } = await before.request<Record<string, string>>('POST', '/v1/otp/send', {
      body: { phone },
    });
    const code = await issuedCode(body.id);
    await before.close();

    const after = await startApp({
      env: { DELIVERY_WORKER_ENABLED: 'false', OTP_HASH_SECRET: `${NEW_SECRET},${TEST_ENV.OTP_HASH_SECRET}` },
    });
    try {
      const ok = await after.request('POST', '/v1/otp/verify', { body: { phone, code } });
      expect(ok.status).toBe(200);
      // New codes are hashed (and their jobs encrypted) under the new key.
      const phone2 = uniquePhone();
      const second = await after.request<Record<string, string>>('POST', '/v1/otp/send', {
        body: { phone: phone2 },
      });
      const keys = await withDb((db) =>
        db.query<{ hash_key_id: string }>(
          'SELECT hash_key_id FROM one_time_codes WHERE id = ANY($1::uuid[]) ORDER BY created_at',
          [[body.id, second.body.id]],
        ),
      );
      expect(keys.rows[0].hash_key_id).not.toBe(keys.rows[1].hash_key_id);
      const code2 = await issuedCode(second.body.id, `${NEW_SECRET},${TEST_ENV.OTP_HASH_SECRET}`);
      expect(
        (await after.request('POST', '/v1/otp/verify', { body: { phone: phone2, code: code2 } })).status,
      ).toBe(200);
    } finally {
      await after.close();
    }
  });

  describe('retention', () => {
    // One app for both sweeps. No worker: its cron task would sweep the rows under the test's feet.
    // The rows are backdated with SQL (retention is about age, and a day cannot be waited out).
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' } });
    });
    afterAll(() => t.close());

    it('the retention sweep deletes codes past OTP_RETENTION_HOURS that can no longer verify, and nothing else', async () => {
      const rows = {
        oldUsed: randomUUID(),
        oldExpired: randomUUID(),
        recentUsed: randomUUID(),
        oldButPending: randomUUID(),
      };
      const hours = (h: number) => new Date(Date.now() - h * 3600_000);
      await withDb(async (db) => {
        const insert = (id: string, status: string, createdAt: Date, expiresAt: Date) =>
          db.query(
            `INSERT INTO one_time_codes (id, phone, purpose, code_hash, hash_key_id, client, status, max_attempts, expires_at, created_at)
             VALUES ($1, $2, 'login', 'x', 'k', 'acme', $3, 5, $4, $5)`,
            [id, uniquePhone(), status, expiresAt, createdAt],
          );
        await insert(rows.oldUsed, 'verified', hours(30), hours(29.9));
        await insert(rows.oldExpired, 'pending', hours(30), hours(29.9));
        await insert(rows.recentUsed, 'verified', hours(1), hours(0.9));
        // A pending code can only be this old with a future expiry if clocks are wrong; keep it.
        await insert(rows.oldButPending, 'pending', hours(30), new Date(Date.now() + 60_000));
      });
      const swept = await t.app.get(RetentionScheduler).sweep(new Date());
      expect(swept.codes).toBe(2);
      const left = await withDb((db) =>
        db.query<{ id: string }>('SELECT id FROM one_time_codes WHERE id = ANY($1::uuid[])', [
          Object.values(rows),
        ]),
      );
      expect(left.rows.map((r) => r.id).sort()).toEqual([rows.recentUsed, rows.oldButPending].sort());
    });
    it('retention keeps per-phone limit rows while their window, lockout or failure count can still matter (a consecutive-failure count only a success resets)', async () => {
      const hours = (h: number) => new Date(Date.now() - h * 3600_000);
      const keys = { fresh: uniquePhone(), stale: uniquePhone() };
      const guards = {
        recentFailure: uniquePhone(),
        locked: uniquePhone(),
        lockoutOver: uniquePhone(),
        succeeded: uniquePhone(),
      };
      await withDb(async (db) => {
        const counter = (key: string, at: Date) =>
          db.query(
            `INSERT INTO phone_send_counters (key, sent_at, sent_by, updated_at) VALUES ($1, ARRAY[$2::timestamptz], ARRAY['acme'], $2)`,
            [key, at],
          );
        await counter(keys.fresh, hours(0.5));
        await counter(keys.stale, hours(1.5));
        const guard = (phone: string, updatedAt: Date, lockedUntil: Date | null, consecutive: number) =>
          db.query(
            `INSERT INTO verify_guards (client, phone, failures, consecutive_failures, locked_until, updated_at)
             VALUES ('acme', $1, '{}', $2, $3, $4)`,
            [phone, consecutive, lockedUntil, updatedAt],
          );
        // 19 consecutive failures two hours ago: one more would lock the phone, so it stays.
        await guard(guards.recentFailure, hours(2), null, 19);
        // Locked out, the lockout still running.
        await guard(guards.locked, hours(30), new Date(Date.now() + 3600_000), 20);
        // Its lockout is over, but the count stands until a success (Decision 3): one more wrong
        // code must re-arm the lockout, so erasing the row would hand out a fresh budget.
        await guard(guards.lockoutOver, hours(25), hours(1), 20);
        // A success reset it more than an hour ago: nothing left that counts.
        await guard(guards.succeeded, hours(2), null, 0);
      });
      const swept = await t.app.get(RetentionScheduler).sweep(new Date());
      expect(swept).toMatchObject({ sendCounters: 1, verifyGuards: 1 });
      // Every table owner's sweep ran (RetentionScheduler finds otp's and webhooks' by their mark).
      expect(Object.keys(swept).sort()).toEqual([
        'codes',
        'deadJobs',
        'idempotencyKeys',
        'sendCounters',
        'verifyGuards',
        'webhookReceipts',
      ]);
      const left = await withDb(async (db) => ({
        counters: (
          await db.query<{ key: string }>('SELECT key FROM phone_send_counters WHERE key = ANY($1)', [
            Object.values(keys),
          ])
        ).rows.map((r) => r.key),
        guards: (
          await db.query<{ phone: string }>('SELECT phone FROM verify_guards WHERE phone = ANY($1)', [
            Object.values(guards),
          ])
        ).rows.map((r) => r.phone),
      }));
      expect(left.counters).toEqual([keys.fresh]);
      expect(left.guards.sort()).toEqual([guards.recentFailure, guards.locked, guards.lockoutOver].sort());
    });
  });

  it('retention folds the wrong codes of the codes it deletes into their verify guard: the consecutive count outlives them', async () => {
    const t = await startApp({
      env: {
        DELIVERY_WORKER_ENABLED: 'false',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
        THROTTLE_VERIFY_PER_PHONE_HOUR: '1000',
        OTP_MAX_CONSECUTIVE_FAILURES: '7',
        OTP_LOCKOUT_SECONDS: '600',
      },
    });
    try {
      const phone = uniquePhone();
      const verify = (code: string) =>
        t.request<Record<string, unknown>>('POST', '/v1/otp/verify', { body: { phone, code } });
      const sendCode = async () => {
        const sent = await t.request<Record<string, string>>('POST', '/v1/otp/send', { body: { phone } });
        expect(sent.status).toBe(202);
        return issuedCode(sent.body.id);
      };
      const wrongOf = (code: string) => (code === '000000' ? '111111' : '000000');
      const first = await sendCode();
      for (let i = 0; i < 5; i++) expect((await verify(wrongOf(first))).body.code).toBe('invalid_code');
      // A day later the sweep deletes that code; its 5 failures move into the guard row.
      t.clock.advance(25 * 3600_000);
      const swept = await t.app.get(RetentionScheduler).sweep(t.clock.now());
      expect(swept.codes).toBeGreaterThanOrEqual(1);
      const guard = await withDb((db) =>
        db.query('SELECT consecutive_failures, locked_until FROM verify_guards WHERE phone = $1', [phone]),
      );
      expect(guard.rows).toEqual([{ consecutive_failures: 5, locked_until: null }]);
      // So the 6th and 7th wrong codes in a row, on a new code, lock the (client, phone).
      const second = await sendCode();
      expect((await verify(wrongOf(second))).body.code).toBe('invalid_code');
      expect((await verify(wrongOf(second))).body.code).toBe('invalid_code');
      expect((await verify(second)).body.code).toBe('too_many_failures');
      // Another day on, the sweep deletes the second code: its 2 failures are in the count already
      // (folded when the lockout armed), so they are not added twice.
      t.clock.advance(25 * 3600_000);
      expect((await t.app.get(RetentionScheduler).sweep(t.clock.now())).codes).toBeGreaterThanOrEqual(1);
      const after = await withDb((db) =>
        db.query<{ n: number }>('SELECT consecutive_failures AS n FROM verify_guards WHERE phone = $1', [
          phone,
        ]),
      );
      expect(after.rows).toEqual([{ n: 7 }]);
    } finally {
      await t.close();
    }
  });
});
