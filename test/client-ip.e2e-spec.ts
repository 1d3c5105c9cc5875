import { startApp, type HttpResponse, type TestApp } from './helpers/app.js';
import { uniquePhone } from './helpers/db.js';

/*
 * TRUST_PROXY (shared/docs API.md A3): the per-IP limits key on the client IP, which a client must
 * not be able to choose. Each form is attacked with spoofed and garbage X-Forwarded-For entries;
 * with a limit of 2 sends per IP, a third send from "new" addresses must still be refused.
 * The service's socket peer in these tests is 127.0.0.1 (the proxy nearest to it).
 */
const ENV = {
  DELIVERY_WORKER_ENABLED: 'false',
  OTP_RESEND_COOLDOWN_SECONDS: '0',
  THROTTLE_SEND_PER_IP_HOUR: '2',
};

let counter = 0;
/** A distinct documentation-range address per call. */
function uniqueIp(): string {
  counter += 1;
  return `198.51.${100 + Math.floor(counter / 250)}.${(counter % 250) + 1}`;
}

function send(t: TestApp, xff: string): Promise<HttpResponse> {
  return t.request('POST', '/v1/otp/send', {
    body: { phone: uniquePhone() },
    headers: { 'x-forwarded-for': xff },
  });
}

/** Two sends with `xff(i)` pass; the third is refused by the per-IP limit. */
async function expectOneBucket(t: TestApp, xff: (i: number) => string): Promise<void> {
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await send(t, xff(i))).status);
  expect(statuses).toEqual([202, 202, 429]);
}

async function withApp(trustProxy: string | undefined, fn: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await startApp({ env: { ...ENV, TRUST_PROXY: trustProxy } });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

describe('TRUST_PROXY: the client IP cannot be chosen by the client', () => {
  it.each([undefined, 'false'])('TRUST_PROXY=%s: X-Forwarded-For is ignored, the socket peer counts', (v) =>
    withApp(v, (t) => expectOneBucket(t, () => uniqueIp())),
  );

  it('TRUST_PROXY=1: the right-most X-Forwarded-For entry (what the proxy appended) is the client', () =>
    withApp('1', async (t) => {
      const user = uniqueIp();
      // The client writes anything on the left; its proxy appends the address it saw.
      await expectOneBucket(t, () => `${uniqueIp()}, ${user}`);
      // Another user behind the same proxy has a bucket of their own.
      expect((await send(t, `${uniqueIp()}`)).status).toBe(202);
    }));

  it('TRUST_PROXY=2: the second address from the right is the client', () =>
    withApp('2', async (t) => {
      const user = uniqueIp();
      await expectOneBucket(t, (i) => `${uniqueIp()}, ${user}, 10.0.0.${i + 1}`);
    }));

  it('TRUST_PROXY=CIDRs: the right-most address outside the trusted ranges is the client', () =>
    withApp('127.0.0.0/8, 10.0.0.0/8', async (t) => {
      const user = uniqueIp();
      await expectOneBucket(t, (i) => `${uniqueIp()}, ${user}, 10.0.${i}.1, 10.1.0.1`);
      // Another user behind the same proxies has a bucket of their own.
      expect((await send(t, `${uniqueIp()}, 10.0.0.9`)).status).toBe(202);
    }));

  it.each([
    ['1', (i: number) => `garbage-${i}`],
    ['1', (i: number) => `${uniqueIp()}, not-an-ip-${i}`],
    ['2', (i: number) => `${uniqueIp()}, nonsense-${i}, 10.0.0.1`],
    ['127.0.0.0/8,10.0.0.0/8', (i: number) => `${uniqueIp()}, junk${i}, 10.0.0.1`],
    ['127.0.0.0/8', (i: number) => `x${i}`],
  ])('TRUST_PROXY=%s: an entry that is not an IP never becomes a bucket of its own', (v, xff) =>
    withApp(v, (t) => expectOneBucket(t, xff)),
  );

  it.each([
    ['true', 'TRUST_PROXY=true is ambiguous'],
    ['11', 'TRUST_PROXY must be false, a hop count between 1 and 10'],
    ['10.0.0.0/33', 'TRUST_PROXY must be false, a hop count between 1 and 10, or comma-separated CIDRs'],
    ['proxy.internal', 'TRUST_PROXY must be false, a hop count between 1 and 10, or comma-separated CIDRs'],
  ])('TRUST_PROXY=%s is refused at start-up with a line naming the variable', async (v, message) => {
    await expect(startApp({ env: { ...ENV, TRUST_PROXY: v } })).rejects.toThrow(
      `Invalid configuration: ${message}`,
    );
  });
});
