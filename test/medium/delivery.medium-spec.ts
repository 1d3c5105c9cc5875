import { DeliveryService } from '../../src/delivery/delivery.service.js';
import { OtpService } from '../../src/otp/otp.service.js';
import { OtpStatusService } from '../../src/otp/otp-status.service.js';
import { type DnzAndEnoSend, type DnzFake, type EnoSendFake, startDnzAndEnoSend } from '../fakes/index.js';
import { startContext, type TestContext } from '../helpers/context.js';
import { uniquePhone } from '../helpers/db.js';
import { queuedPayload } from '../helpers/queue.js';

type Payload = Parameters<DeliveryService['deliver']>[0];
type Body = Record<string, unknown>;

const TEST_NUMBER = '+233249999002';

/**
 * DeliveryService with its real repository on the medium database and real providers talking HTTP
 * to local fakes (test/fakes): the test runs the job itself (`deliver` with the queued payload),
 * so every outcome is awaited, not polled for.
 */
describe('DeliveryService (medium: real repository, fake providers over HTTP)', () => {
  let fakes: DnzAndEnoSend;
  let dnz: DnzFake;
  let enosend: EnoSendFake;
  let t: TestContext;
  let otp: OtpService;
  let delivery: DeliveryService;
  let status: OtpStatusService;

  beforeAll(async () => {
    fakes = await startDnzAndEnoSend();
    ({ dnz, enosend } = fakes);
    t = await startContext({
      env: {
        ...fakes.env({ chain: ['dnz', 'enosend'], timeoutMs: 400, statusPollMs: 1000 }),
        DELIVERY_RETRIES: '1',
        DELIVERY_RETRY_BASE_MS: '10',
        DELIVERY_CIRCUIT_THRESHOLD: '1000',
        OTP_RESEND_COOLDOWN_SECONDS: '0',
        OTP_TEST_NUMBERS: JSON.stringify({ [TEST_NUMBER]: '246810' }),
        OTP_TEST_NUMBERS_ENABLED: 'true',
      },
    });
    otp = t.get(OtpService);
    delivery = t.get(DeliveryService);
    status = t.get(OtpStatusService);
  });
  afterAll(async () => {
    await t?.close();
    await fakes?.close();
  });
  beforeEach(() => {
    fakes.reset();
  });

  /** Issues a code and returns its id and the delivery job's payload, as the queue holds it. */
  async function issued(phone = uniquePhone()): Promise<{ id: string; phone: string; payload: Payload }> {
    const { id } = await otp.issue({ phone, client: 'acme' });
    const payload = await queuedPayload<Payload>(id, process.env.TEST_MEDIUM_DATABASE_URL);
    if (!payload) throw new Error(`no queued delivery job for ${id}`);
    return { id, phone, payload };
  }
  const deliveryOf = async (id: string) =>
    (await status.view(id, 'acme'))?.delivery as {
      status: string;
      provider: string | null;
      error: string | null;
      attempts: { provider: string; outcome: string; errorCode: string | null }[];
    };
  const dnzText = (phone: string) =>
    (dnz.requests.find((r) => (r.json as Body)?.number === phone)?.json as { message: string } | undefined)
      ?.message;

  it('hands the code to the first provider; the digits that arrive verify', async () => {
    const { id, phone, payload } = await issued();
    await delivery.deliver(payload);
    expect(await deliveryOf(id)).toMatchObject({
      status: 'sent',
      provider: 'dnz',
      error: null,
      attempts: [{ provider: 'dnz', outcome: 'sent', errorCode: null }],
    });
    const code = /\b(\d{6})\b/.exec(dnzText(phone) ?? '')?.[1] as string;
    await expect(otp.verify({ client: 'acme', phone, code })).resolves.toMatchObject({ id });
    expect(enosend.sendRequests()).toHaveLength(0);
  });

  it('a retryable failure is retried, then the next provider takes it (and reports delivered)', async () => {
    dnz.behave('send_otp_failed');
    const { id, phone, payload } = await issued();
    await delivery.deliver(payload);
    const d = await deliveryOf(id);
    expect(d).toMatchObject({ status: 'delivered', provider: 'enosend' });
    expect(d.attempts.map((a) => [a.provider, a.outcome])).toEqual([
      ['dnz', 'retryable_error'],
      ['dnz', 'retryable_error'],
      ['enosend', 'sent'],
    ]);
    expect(enosend.sendRequests().filter((r) => (r.json as Body)?.number === phone.slice(1))).toHaveLength(1);
  });

  it('every provider failing for good fails the delivery with the last error', async () => {
    dnz.behave('send_otp_failed');
    enosend.behave('send_failed');
    const { id, payload } = await issued();
    await delivery.deliver(payload);
    const d = await deliveryOf(id);
    expect(d.status).toBe('failed');
    expect(d.error).toEqual(expect.any(String));
    expect(d.attempts.at(-1)).toMatchObject({ provider: 'enosend', outcome: 'permanent_error' });
  });

  it('a code verified or replaced before its job runs is not sent', async () => {
    const first = await issued();
    await otp.issue({ phone: first.phone, client: 'acme' }); // replaces (cancels) the first code
    await delivery.deliver(first.payload);
    expect(await deliveryOf(first.id)).toMatchObject({ status: 'failed', error: 'code_no_longer_valid' });
    expect(dnz.requests).toHaveLength(0);
  });

  it('the job run again after the message went out sends nothing', async () => {
    const { id, payload } = await issued();
    await delivery.deliver(payload);
    await delivery.deliver(payload);
    expect(dnz.requests).toHaveLength(1);
    expect((await deliveryOf(id)).attempts).toHaveLength(1);
  });

  it('a test number never reaches a provider', async () => {
    const { id, payload } = await issued(TEST_NUMBER);
    await delivery.deliver(payload);
    expect(await deliveryOf(id)).toMatchObject({ status: 'failed', error: 'test_number' });
    expect(dnz.requests).toHaveLength(0);
    expect(enosend.sendRequests()).toHaveLength(0);
  });

  // Last: the pause is stored for the provider (provider_states), for every later code.
  it('a provider-wide rate limit pauses the provider: this code and the next go to the next provider', async () => {
    dnz.behave('rate_limited');
    const a = await issued();
    await delivery.deliver(a.payload);
    expect(await deliveryOf(a.id)).toMatchObject({ status: 'delivered', provider: 'enosend' });
    expect(dnz.requests).toHaveLength(1); // asked to wait: not retried
    dnz.behave('ok');
    const b = await issued();
    await delivery.deliver(b.payload);
    const d = await deliveryOf(b.id);
    expect(d).toMatchObject({ status: 'delivered', provider: 'enosend' });
    expect(d.attempts[0]).toMatchObject({ provider: 'dnz', outcome: 'skipped' });
    expect(dnz.requests).toHaveLength(1);
    // Once the pause (Retry-After 30 s) is over, the first provider is asked again.
    t.clock.advance(31_000);
    const c = await issued();
    await delivery.deliver(c.payload);
    expect(await deliveryOf(c.id)).toMatchObject({ status: 'sent', provider: 'dnz' });
  });
});
