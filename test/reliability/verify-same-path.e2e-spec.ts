import { OtpCrypto } from '../../src/codes/otp.crypto.js';
import { PrismaService } from '../../src/prisma/prisma.service.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { issuedCode } from '../helpers/codes.js';
import { uniquePhone } from '../helpers/db.js';

type Body = Record<string, unknown>;

/** What one verify did: keyed hashes computed, constant-time comparisons, SQL statements run. */
interface Trace {
  macs: number;
  comparisons: number;
  statements: { statement: string; matched?: unknown }[];
}

/**
 * Timing (SECURITY.md, ASVS 6.3.8 / 11.2.4): a wrong code, and the right code of another phone,
 * must take the same path through verify — the same hashing and the same statements — so that
 * neither the answer nor the work done tells which part failed. Instead of timing requests (noisy
 * on a shared machine), the test counts the work: it wraps the app's own hasher and database pool.
 */
describe('reliability: a wrong code and another phone’s right code take the same path', () => {
  let t: TestApp;
  let trace: Trace | undefined;

  beforeAll(async () => {
    t = await startApp({
      env: {
        DELIVERY_WORKER_ENABLED: 'false',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
        THROTTLE_VERIFY_PER_PHONE_HOUR: '0',
        THROTTLE_VERIFY_PER_IP_HOUR: '0',
      },
    });
    const hasher = t.app.get(OtpCrypto).hasher as unknown as {
      mac(...args: unknown[]): string;
      matches(...args: unknown[]): boolean;
    };
    const mac = hasher.mac.bind(hasher);
    hasher.mac = (...args) => {
      if (trace) trace.macs += 1;
      return mac(...args);
    };
    const matches = hasher.matches.bind(hasher);
    hasher.matches = (...args) => {
      if (trace) trace.comparisons += 1;
      return matches(...args);
    };
    const pool = t.app.get(PrismaService).pool;
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const q = args[0] as string | { name?: string; text: string; values?: unknown[] };
      if (trace) {
        const statement = typeof q === 'string' ? q : (q.name ?? q.text);
        // The `matched` flag the attempt is recorded with, when the statement carries one.
        const matched = typeof q === 'object' ? q.values?.find((v) => typeof v === 'boolean') : undefined;
        trace.statements.push({ statement, ...(matched !== undefined ? { matched } : {}) });
      }
      return query(...args);
    };
  });
  afterAll(() => t?.close());

  const issue = async (phone: string) => {
    const res = await t.request<Body>('POST', '/v1/otp/send', { body: { phone } });
    expect(res.status).toBe(202);
    return { id: res.body.id as string, code: await issuedCode(res.body.id as string) };
  };
  const traced = async (phone: string, code: string) => {
    trace = { macs: 0, comparisons: 0, statements: [] };
    try {
      const res = await t.request<Body>('POST', '/v1/otp/verify', { body: { phone, code } });
      return { status: res.status, body: res.body, trace };
    } finally {
      trace = undefined;
    }
  };
  const wrong = (code: string) => code.replace(/\d$/, (d) => String((Number(d) + 1) % 10));

  it('same statements, same hashing, same answer; the right code stays valid for its own phone', async () => {
    const a = uniquePhone();
    const b1 = uniquePhone();
    const b2 = uniquePhone();
    const none = uniquePhone();
    const codeA = await issue(a);
    const codeB1 = await issue(b1);
    await issue(b2);

    const wrongCode = await traced(b1, wrong(codeB1.code));
    const othersCode = await traced(b2, codeA.code);
    const noCode = await traced(none, codeA.code);

    // A wrong code for B1's own code, and A's right code sent for B2: the same answer...
    expect(wrongCode.status).toBe(400);
    expect(wrongCode.body).toMatchObject({ verified: false, code: 'invalid_code' });
    expect(othersCode).toMatchObject({ status: wrongCode.status, body: wrongCode.body });
    // ...after the same work: one lookup, one keyed hash, one constant-time comparison, one
    // attempt recorded as a miss, in the same order.
    expect(wrongCode.trace.macs).toBe(1);
    expect(wrongCode.trace.comparisons).toBe(1);
    expect(wrongCode.trace.statements.some((s) => s.matched === false)).toBe(true);
    expect(othersCode.trace).toEqual(wrongCode.trace);

    // A phone with no code is answered not_found (API.md: the answer itself says so), after the
    // same hashing work, the same lookup and as many round trips: instead of the attempt write
    // (nothing exists to count the attempt against) it reads the verify limits, which come first
    // in Decision 4's order.
    expect(noCode.status).toBe(400);
    expect(noCode.body).toMatchObject({ verified: false, code: 'not_found' });
    expect([noCode.trace.macs, noCode.trace.comparisons]).toEqual([1, 1]);
    expect(noCode.trace.statements[0]).toEqual(wrongCode.trace.statements[0]);
    expect(noCode.trace.statements.map((s) => s.statement)).toEqual([
      wrongCode.trace.statements[0].statement,
      'otp_verify_limits',
    ]);
    expect(noCode.trace.statements.length).toBe(wrongCode.trace.statements.length);

    // A's code was neither used nor burnt by being sent for B2: it still verifies A, once.
    const own = await t.request<Body>('POST', '/v1/otp/verify', { body: { phone: a, code: codeA.code } });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ verified: true, id: codeA.id });
  });
});
