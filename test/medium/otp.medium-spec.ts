import { OtpService } from '../../src/otp/otp.service.js';
import { OtpStatusService } from '../../src/otp/otp-status.service.js';
import { startContext, type TestContext } from '../helpers/context.js';
import { uniquePhone } from '../helpers/db.js';
import { issuedCode } from '../helpers/codes.js';
import { queuedJob } from '../helpers/queue.js';

/**
 * OtpService with its real repository on the medium database: the issue / verify / status
 * outcomes and the races the verify statement settles, without HTTP.
 */
describe('OtpService (medium: real repository, no HTTP)', () => {
  const MAX_ATTEMPTS = 5;
  let t: TestContext;
  let otp: OtpService;
  let status: OtpStatusService;

  beforeAll(async () => {
    t = await startContext({
      env: {
        OTP_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        OTP_RESEND_COOLDOWN_SECONDS: '60',
        OTP_TTL_SECONDS: '300',
      },
    });
    otp = t.get(OtpService);
    status = t.get(OtpStatusService);
  });
  afterAll(() => t.close());

  const issue = (phone: string, extra: { purpose?: string; client?: string } = {}) =>
    otp.issue({ phone, client: 'acme', ...extra });

  /** The digits of an issued code, read the way the delivery worker reads them: from its job. */
  const codeOf = (id: string) => issuedCode(id, undefined, process.env.TEST_MEDIUM_DATABASE_URL);
  /** Attempts left on a refusal (on the error itself, or in its extra body fields). */
  const remaining = (e: unknown) =>
    (e as { attemptsRemaining?: number }).attemptsRemaining ??
    (e as { extra?: { attemptsRemaining?: number } }).extra?.attemptsRemaining;
  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(code.length, '0');

  it('issue stores a pending code and queues its delivery job in the same step', async () => {
    const phone = uniquePhone();
    const issued = await issue(phone);
    expect(issued).toMatchObject({
      phone,
      purpose: 'login',
      status: 'pending',
      delivery: { status: 'queued' },
      expiresIn: 300,
      attemptsRemaining: MAX_ATTEMPTS,
    });
    expect(await status.view(issued.id, 'acme')).toMatchObject({
      id: issued.id,
      status: 'pending',
      attempts: 0,
      attemptsRemaining: MAX_ATTEMPTS,
      delivery: { status: 'queued', attempts: [] },
    });
    expect(await queuedJob(issued.id, process.env.TEST_MEDIUM_DATABASE_URL)).toMatchObject({
      task: 'deliver-otp',
      lockedAt: null,
    });
    // Codes belong to the client that issued them.
    expect(await status.view(issued.id, 'globex')).toBeUndefined();
  });

  it('normalises any spelling of the number and refuses what is not a mobile number', async () => {
    const phone = uniquePhone();
    const issued = await issue(`0${phone.slice(4)}`);
    expect(issued.phone).toBe(phone);
    await expect(issue('12345')).rejects.toMatchObject({ code: 'invalid_phone' });
  });

  it('a second send within the cooldown is refused with the time to wait; another purpose is not', async () => {
    const phone = uniquePhone();
    await issue(phone);
    await expect(issue(phone)).rejects.toMatchObject({
      code: 'resend_cooldown',
      details: { retryAfterSeconds: expect.any(Number) },
    });
    await expect(issue(phone, { purpose: 'reset' })).resolves.toMatchObject({ purpose: 'reset' });
  });

  it('the right code verifies once; the code is then used', async () => {
    const phone = uniquePhone();
    const { id } = await issue(phone);
    const code = await codeOf(id);
    const verified = await otp.verify({ client: 'acme', phone, code });
    expect(verified).toEqual({ verified: true, id, verifiedAt: expect.any(String) });
    expect(await status.view(id, 'acme')).toMatchObject({ status: 'verified', attempts: 1 });
    await expect(otp.verify({ client: 'acme', phone, code })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('another client cannot verify the code; an unknown number has nothing to verify', async () => {
    const phone = uniquePhone();
    const { id } = await issue(phone);
    const code = await codeOf(id);
    await expect(otp.verify({ client: 'globex', phone, code })).rejects.toMatchObject({ code: 'not_found' });
    await expect(otp.verify({ client: 'acme', phone: uniquePhone(), code })).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(await status.view(id, 'acme')).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('wrong codes count down; the one after the last attempt is max_attempts_reached, even when right', async () => {
    const phone = uniquePhone();
    const { id } = await issue(phone);
    const code = await codeOf(id);
    for (let left = MAX_ATTEMPTS - 1; left >= 0; left -= 1) {
      const error = await otp.verify({ client: 'acme', phone, code: wrong(code) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_code' });
      expect(remaining(error)).toBe(left);
    }
    await expect(otp.verify({ client: 'acme', phone, code })).rejects.toMatchObject({
      code: 'max_attempts_reached',
    });
    expect(await status.view(id, 'acme')).toMatchObject({ attempts: MAX_ATTEMPTS, attemptsRemaining: 0 });
  });

  it('a code past its lifetime is expired, for verify and for status', async () => {
    const phone = uniquePhone();
    const { id } = await issue(phone);
    const code = await codeOf(id);
    t.clock.advance(301_000);
    try {
      await expect(otp.verify({ client: 'acme', phone, code })).rejects.toMatchObject({ code: 'expired' });
      expect(await status.view(id, 'acme')).toMatchObject({ status: 'expired', attemptsRemaining: 0 });
    } finally {
      t.clock.advance(-301_000);
    }
  });

  it('a new send replaces the pending code: the old digits no longer verify', async () => {
    const phone = uniquePhone();
    const first = await issue(phone);
    const oldCode = await codeOf(first.id);
    t.clock.advance(61_000);
    try {
      const second = await issue(phone);
      const newCode = await codeOf(second.id);
      expect(await status.view(first.id, 'acme')).toMatchObject({ status: 'canceled' });
      if (oldCode !== newCode) {
        await expect(otp.verify({ client: 'acme', phone, code: oldCode })).rejects.toMatchObject({
          code: 'invalid_code',
        });
      }
      await expect(otp.verify({ client: 'acme', phone, code: newCode })).resolves.toMatchObject({
        id: second.id,
      });
    } finally {
      t.clock.advance(-61_000);
    }
  });

  it('parallel right codes: exactly one verifies, the others find nothing pending', async () => {
    const phone = uniquePhone();
    const { id } = await issue(phone);
    const code = await codeOf(id);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => otp.verify({ client: 'acme', phone, code })),
    );
    const verified = results.filter((r) => r.status === 'fulfilled');
    expect(verified).toHaveLength(1);
    const refused = results.flatMap((r) =>
      r.status === 'rejected' ? [(r.reason as { code: string }).code] : [],
    );
    expect(new Set(refused)).toEqual(new Set(['not_found']));
    expect(await status.view(id, 'acme')).toMatchObject({ status: 'verified', attempts: 1 });
  });

  it('parallel wrong codes never count more than the allowed attempts; the right code is then refused', async () => {
    const phone = uniquePhone();
    const { id } = await issue(phone);
    const code = await codeOf(id);
    const results = await Promise.allSettled(
      Array.from({ length: 15 }, () => otp.verify({ client: 'acme', phone, code: wrong(code) })),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const codes = results.map((r) => (r as PromiseRejectedResult).reason as { code: string });
    expect(codes.filter((e) => e.code === 'invalid_code')).toHaveLength(MAX_ATTEMPTS);
    expect(
      codes.filter((e) => e.code !== 'invalid_code').every((e) => e.code === 'max_attempts_reached'),
    ).toBe(true);
    const view = await status.view(id, 'acme');
    expect(view).toMatchObject({ attempts: MAX_ATTEMPTS, attemptsRemaining: 0 });
    await expect(otp.verify({ client: 'acme', phone, code })).rejects.toMatchObject({
      code: 'max_attempts_reached',
    });
  });
});
