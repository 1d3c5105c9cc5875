import { randomUUID } from 'node:crypto';
import { DeliveryAttemptsRepository } from '../../src/delivery/delivery-attempts.repository.js';
import { OtpService } from '../../src/otp/otp.service.js';
import { OtpStatusService } from '../../src/otp/otp-status.service.js';
import { ContactsRepository } from '../../src/webhooks/contacts.repository.js';
import {
  type DeliveryReport,
  DeliveryReportsRepository,
} from '../../src/webhooks/delivery-reports.repository.js';
import { ProviderStatesRepository } from '../../src/delivery/provider-states.repository.js';
import { startContext, type TestContext } from '../helpers/context.js';
import { uniquePhone } from '../helpers/db.js';
import { queuedJob } from '../helpers/queue.js';

/**
 * The webhook module's repositories on the medium database. State is set up through its owners:
 * codes through OtpService, delivery attempts through DeliveryAttemptsRepository, as the worker records them.
 */
describe('webhook repositories (medium: real database, no HTTP)', () => {
  let t: TestContext;
  let otp: OtpService;
  let status: OtpStatusService;
  let deliveries: DeliveryAttemptsRepository;
  let reports: DeliveryReportsRepository;

  beforeAll(async () => {
    t = await startContext({ env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } });
    otp = t.get(OtpService);
    status = t.get(OtpStatusService);
    deliveries = t.get(DeliveryAttemptsRepository);
    reports = t.get(DeliveryReportsRepository);
  });
  afterAll(() => t?.close());

  /** A code whose message `provider` accepted under a fresh message id (what the worker records). */
  async function sentCode(provider = 'sinch'): Promise<{ id: string; phone: string; messageId: string }> {
    const phone = uniquePhone();
    const { id } = await otp.issue({ phone, client: 'acme' });
    const attemptId = await deliveries.startAttempt(id, provider, t.clock.now());
    if (!attemptId) throw new Error('the attempt was not started');
    const messageId = `msg-${randomUUID()}`;
    await deliveries.recordSent(
      attemptId,
      id,
      { provider, providerMessageId: messageId, durationMs: 5 },
      t.clock.now(),
    );
    return { id, phone, messageId };
  }
  const report = (messageId: string, status: string, effect: DeliveryReport['effect'], extra = {}) =>
    reports.apply({ provider: 'sinch', messageId, status, effect, ...extra }, t.clock.now());
  const deliveryOf = async (id: string) => (await status.view(id, 'acme'))?.delivery;

  describe('DeliveryReportsRepository', () => {
    it('moves the delivery forward once; a duplicate and an older status change nothing', async () => {
      const { id, messageId } = await sentCode();
      expect(await report(messageId, 'DELIVERED', { kind: 'advance', to: 'delivered' })).toMatchObject({
        result: 'applied',
        codeId: id,
        fallback: false,
      });
      expect(await report(messageId, 'DELIVERED', { kind: 'advance', to: 'delivered' })).toEqual({
        result: 'duplicate',
        codeId: id,
      });
      expect(await report(messageId, 'QUEUED_ON_CHANNEL', { kind: 'advance', to: 'sent' })).toEqual({
        result: 'unchanged',
        codeId: id,
      });
      expect(await deliveryOf(id)).toMatchObject({
        status: 'delivered',
        provider: 'sinch',
        // The stale report did not touch the attempt either.
        attempts: [{ provider: 'sinch', outcome: 'sent', providerStatus: 'DELIVERED' }],
      });
      expect(await report(messageId, 'READ', { kind: 'advance', to: 'read' })).toMatchObject({
        result: 'applied',
      });
      expect(await deliveryOf(id)).toMatchObject({ status: 'read' });
    });

    it('a message that is not ours (or not this provider’s) is unknown', async () => {
      const { messageId } = await sentCode('sinch');
      expect(await report(`msg-${randomUUID()}`, 'DELIVERED', { kind: 'advance', to: 'delivered' })).toEqual({
        result: 'unknown_message',
      });
      expect(
        await reports.apply(
          {
            provider: 'enosend',
            messageId,
            status: 'DELIVERED',
            effect: { kind: 'advance', to: 'delivered' },
          },
          t.clock.now(),
        ),
      ).toEqual({ result: 'unknown_message' });
    });

    it('FAILED while the code can still verify queues the fallback job in the same statement', async () => {
      const { id, messageId } = await sentCode();
      expect(
        await report(messageId, 'FAILED', { kind: 'failed' }, { reason: 'RECIPIENT_NOT_REACHABLE' }),
      ).toMatchObject({
        result: 'applied',
        fallback: true,
      });
      expect(await deliveryOf(id)).toMatchObject({ status: 'sent', error: 'RECIPIENT_NOT_REACHABLE' });
      expect(await queuedJob(`fallback:${id}`, process.env.TEST_MEDIUM_DATABASE_URL)).toMatchObject({
        task: 'deliver-otp-fallback',
      });
    });

    it('FAILED after the code was used fails the delivery for good, with no fallback', async () => {
      const { id, messageId } = await sentCode();
      await otp.issue({ phone: (await status.view(id, 'acme'))?.phone as string, client: 'acme' }); // cancels it
      expect(await report(messageId, 'FAILED', { kind: 'failed' })).toMatchObject({
        result: 'applied',
        fallback: false,
      });
      expect(await deliveryOf(id)).toMatchObject({ status: 'failed', error: 'FAILED' });
      expect(await queuedJob(`fallback:${id}`, process.env.TEST_MEDIUM_DATABASE_URL)).toBeUndefined();
    });

    it('a record-only status keeps the raw state on the attempt and moves nothing', async () => {
      const { id, messageId } = await sentCode();
      expect(await report(messageId, 'SWITCHING_CHANNEL', { kind: 'record' })).toEqual({
        result: 'unchanged',
        codeId: id,
      });
      expect(await deliveryOf(id)).toMatchObject({
        status: 'sent',
        attempts: [{ providerStatus: 'SWITCHING_CHANNEL' }],
      });
    });
  });

  describe('ContactsRepository', () => {
    it('records opt-out and opt-in by the newest inbound message; an older one changes nothing', async () => {
      const contacts = t.get(ContactsRepository);
      const phone = uniquePhone();
      const { id } = await otp.issue({ phone, client: 'acme' });
      const base = t.clock.now().getTime() - 60_000;
      const at = (s: number) => new Date(base + s * 1000);
      await contacts.recordInbound(phone, at(10), 'out', t.clock.now());
      expect(await deliveries.target(id)).toMatchObject({ optedOutAt: at(10), lastInboundAt: at(10) });
      await contacts.recordInbound(phone, at(5), 'in', t.clock.now()); // older START: ignored
      expect(await deliveries.target(id)).toMatchObject({ optedOutAt: at(10), lastInboundAt: at(10) });
      await contacts.recordInbound(phone, at(20), 'in', t.clock.now());
      expect(await deliveries.target(id)).toMatchObject({ optedOutAt: null, lastInboundAt: at(20) });
      await contacts.recordInbound(phone, at(30), undefined, t.clock.now());
      expect(await deliveries.target(id)).toMatchObject({ optedOutAt: null, lastInboundAt: at(30) });
    });
  });

  describe('ProviderStatesRepository', () => {
    it('keeps the newest observation: an older or repeated one is refused', async () => {
      const states = t.get(ProviderStatesRepository);
      // A provider name of its own: provider_states rows are global per provider.
      const provider = `medium-${randomUUID()}`;
      const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
      expect(await states.find(provider)).toBeUndefined();
      expect(await states.store(provider, 'connected', {}, at(10), t.clock.now())).toBe(true);
      expect(await states.store(provider, 'disconnected', {}, at(5), t.clock.now())).toBe(false);
      expect(await states.store(provider, 'disconnected', {}, at(10), t.clock.now())).toBe(false);
      expect(await states.find(provider)).toMatchObject({ state: 'connected' });
      expect(await states.store(provider, 'disconnected', { reason: 'logout' }, at(20), t.clock.now())).toBe(
        true,
      );
      expect(await states.find(provider)).toMatchObject({
        state: 'disconnected',
        details: { reason: 'logout', observedAt: at(20).toISOString() },
      });
    });
  });
});
