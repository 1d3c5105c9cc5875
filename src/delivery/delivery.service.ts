import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock, maskPhone } from '../common/index.js';
import { deliveryConfig, type DeliveryConfig, otpConfig, type OtpConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { OtpCrypto, generateCode, TEST_NUMBER_JOB_PAYLOAD } from '../codes/index.js';
import {
  ProviderError,
  type RateLimitScope,
  type OtpMessage,
  type WhatsAppProvider,
} from '../providers/index.js';
import {
  DELIVER_OTP_TASK,
  type DeliverOtpPayload,
  type FallbackPayload,
  fallbackSendKey,
} from './queue/queue.contract.js';
import { DeliveryRepository } from './delivery.repository.js';
import { FaultHook } from './fault-hook.js';
import { ProviderRouter } from './provider-router.js';

const SESSION_WINDOW_MS = 24 * 3600_000;
/** A rescheduled send must still leave the code this long to live when it goes out. */
const MIN_LIFE_AT_SEND_MS = 15_000;
/** Shortest wait after a rate limit (a Retry-After of 0 or a date in the past). */
const MIN_RATE_LIMIT_WAIT_MS = 1000;

/**
 * What the job is: the send's own, or the fallback send after a provider reported failure. Both
 * carry the encrypted code (the same digits on every run) and are rescheduled under their key.
 */
interface DeliveryJob {
  kind: 'first' | 'fallback';
  payload: DeliverOtpPayload;
  key: string;
}

/** One provider's answer for this code. */
type TryOutcome =
  | { result: 'sent' }
  | { result: 'no_longer_valid' }
  /** The provider asked us to wait `waitMs` (its own limit, or this recipient's). */
  | { result: 'rate_limited'; errorCode: string; waitMs: number; scope: RateLimitScope }
  | { result: 'failed'; errorCode: string };

/**
 * Gets one accepted code to the user through the first provider that works. Runs inside a
 * graphile-worker job; provider failures never throw out of here (the job would keep its
 * encrypted payload for retries); only database trouble does, and then the queue retries.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly repository: DeliveryRepository,
    private readonly router: ProviderRouter,
    private readonly crypto: OtpCrypto,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly faults: FaultHook,
    @Inject(otpConfig.KEY) private readonly otp: OtpConfig,
    @Inject(deliveryConfig.KEY) private readonly config: DeliveryConfig,
  ) {}

  /** The delivery job of a freshly issued code. */
  async deliver(payload: DeliverOtpPayload): Promise<void> {
    if (payload.c === TEST_NUMBER_JOB_PAYLOAD) {
      // OTP_TEST_NUMBERS: a fixed code for reviewers and QA, never handed to a provider.
      await this.repository.markFailed(payload.id, 'test_number', this.clock.now());
      return;
    }
    const code = this.crypto.cipher.decrypt(payload.c, payload.id);
    if (payload.after !== undefined) {
      // The fallback send (new digits after a provider reported failure): the providers after it.
      const job: DeliveryJob = { kind: 'fallback', payload, key: fallbackSendKey(payload.id) };
      await this.run(payload.id, code, this.router.after(payload.after), job);
      return;
    }
    await this.run(payload.id, code, this.router.after(), { kind: 'first', payload, key: payload.id });
  }

  /**
   * A provider reported failure after accepting: new digits for the still-pending code and a send
   * job carrying them (encrypted), in one statement; that job delivers them through the providers
   * after the failed one, as crash-safely as the first send.
   */
  async fallback(payload: FallbackPayload): Promise<void> {
    const target = await this.repository.target(payload.id);
    if (!target) return;
    if (this.router.after(payload.failedProvider).length === 0) {
      await this.repository.markFailed(payload.id, 'all_providers_failed', this.clock.now());
      return;
    }
    const code = generateCode(this.otp.length);
    const { hash, keyId } = this.crypto.hasher.hash(
      { id: payload.id, phone: target.phone, purpose: target.purpose },
      code,
    );
    const send: DeliverOtpPayload = {
      id: payload.id,
      c: this.crypto.cipher.encrypt(code, payload.id),
      after: payload.failedProvider,
    };
    await this.repository.rekeyAndResend(
      payload.id,
      { codeHash: hash, hashKeyId: keyId },
      DELIVER_OTP_TASK,
      send,
      fallbackSendKey(payload.id),
      this.clock.now(),
    );
  }

  /**
   * `first`: the send's own job. It can run again after it already handed the message over (its
   * completion was lost with the database connection; the lock was then released): a delivery that
   * is no longer `queued` is left alone, and a provider that took the code is not asked again.
   * An attempt left in doubt by a dead worker (in flight when the process died) is retried with
   * the same digits (this job's payload): through the other providers first, and through the same
   * provider when no other takes it (at-least-once: a repeated code is harmless, a lost one locks
   * the user out). A provider that asks us to wait is paused (its own limit) or the code is
   * delayed (a per-recipient limit), by rescheduling this job, never by sleeping in it.
   */
  private async run(
    codeId: string,
    code: string,
    providers: WhatsAppProvider[],
    job: DeliveryJob,
  ): Promise<void> {
    const now = this.clock.now();
    const prepared = await this.repository.prepare(codeId, now);
    if (!prepared) return;
    const { target, inDoubt, tookIt, unhealthy, paused } = prepared;
    const finished =
      job.kind === 'first'
        ? target.deliveryStatus !== 'queued'
        : !['queued', 'sent'].includes(target.deliveryStatus) || providers.some((p) => tookIt.has(p.name));
    if (finished) {
      this.logger.log(
        { codeId, deliveryStatus: target.deliveryStatus },
        'delivery already finished; job re-run ignored',
      );
      return;
    }
    if (target.status !== 'pending' || target.expiresAt <= now) {
      if (target.status === 'verified' && inDoubt.size > 0) {
        // Verified with the digits of an attempt in doubt: that message did reach the user.
        await this.repository.markSentInDoubt(codeId, [...inDoubt][0], now);
        return;
      }
      // Verified, burnt, replaced or expired before it went out: nothing is sent.
      await this.repository.markFailed(codeId, NO_LONGER_VALID, now);
      return;
    }
    if (target.optedOutAt) {
      // The send answered 202 like any other; only the delivery shows the opt-out.
      await this.repository.markFailed(codeId, 'opted_out', now);
      return;
    }
    const message: OtpMessage = {
      codeId,
      phone: target.phone,
      code,
      ttlMinutes: Math.max(1, Math.round((target.expiresAt.getTime() - now.getTime()) / 60_000)),
      locale: target.locale ?? undefined,
      withinSessionWindow:
        !!target.lastInboundAt && now.getTime() - target.lastInboundAt.getTime() < SESSION_WINDOW_MS,
    };
    if (inDoubt.size > 0) {
      this.logger.warn(
        { codeId, inDoubt: [...inDoubt], phoneMasked: maskPhone(target.phone) },
        'attempt in doubt after a crash: sending the same code again',
      );
    }
    /** The earliest a provider that asked us to wait takes messages again, if the code lives that long. */
    let retryAt: Date | undefined;
    const canWaitUntil = (at: Date) => at.getTime() + MIN_LIFE_AT_SEND_MS <= target.expiresAt.getTime();
    let lastError = 'no_provider_available';
    for (const provider of inDoubtLast(providers, inDoubt)) {
      // A provider that took this code in an earlier run of the job is never asked again.
      if (tookIt.has(provider.name)) continue;
      if (unhealthy.has(provider.name)) {
        await this.skip(codeId, provider.name, unhealthy.get(provider.name) as string);
        continue;
      }
      const pausedUntil = paused.get(provider.name);
      if (pausedUntil && pausedUntil > this.clock.now()) {
        await this.skip(codeId, provider.name, 'rate_limited');
        lastError = 'rate_limited';
        if (canWaitUntil(pausedUntil)) retryAt = earliest(retryAt, pausedUntil);
        continue;
      }
      const outcome = await this.tryProvider(provider, message);
      if (outcome.result === 'sent') return;
      if (outcome.result === 'no_longer_valid') {
        await this.repository.markFailed(codeId, NO_LONGER_VALID, this.clock.now());
        return;
      }
      lastError = outcome.errorCode;
      if (outcome.result !== 'rate_limited') continue;
      const until = new Date(this.clock.now().getTime() + outcome.waitMs);
      if (outcome.scope === 'provider') {
        // Its own limit: every code skips it until then (other codes fall back meanwhile).
        await this.repository.pauseProvider(provider.name, until);
        this.logger.warn(
          { provider: provider.name, errorCode: outcome.errorCode, pausedUntil: until.toISOString() },
          'provider asked us to wait: paused',
        );
      }
      if (!canWaitUntil(until)) continue; // the code would expire first: fall back instead
      if (outcome.scope === 'recipient') {
        // This recipient's limit: this code waits for the same provider.
        await this.rescheduleAt(job, until, provider.name);
        return;
      }
      retryAt = earliest(retryAt, until);
    }
    if (retryAt) {
      // Nobody took it, but a provider that asked us to wait will take it while the code lives.
      await this.rescheduleAt(job, retryAt, lastError);
      return;
    }
    await this.repository.markFailed(codeId, lastError, this.clock.now());
    this.logger.warn(
      { codeId, phoneMasked: maskPhone(target.phone), error: lastError },
      'delivery failed on every provider',
    );
  }

  private async rescheduleAt(job: DeliveryJob, runAt: Date, reason: string): Promise<void> {
    await this.repository.reschedule(DELIVER_OTP_TASK, job.payload, job.key, runAt);
    this.logger.log({ codeId: job.payload.id, runAt: runAt.toISOString(), reason }, 'delivery rescheduled');
  }

  /** One provider's try (with its retries and circuit breaker) at handing the message over. */
  private async tryProvider(provider: WhatsAppProvider, message: OtpMessage): Promise<TryOutcome> {
    try {
      const result = await this.router.execute(provider, async (signal) => {
        // Each try (retries too) first checks the code is still worth sending, in the same statement.
        const attemptId = await this.repository.startAttempt(message.codeId, provider.name, this.clock.now());
        if (!attemptId) throw new CodeNoLongerValid();
        await this.faults.reached('attempt_recorded', { codeId: message.codeId, provider: provider.name });
        const started = performance.now();
        let sent;
        try {
          sent = await provider.send({ ...message, attemptId }, signal);
        } catch (error) {
          const e = asProviderError(provider.name, error);
          await this.repository.finishAttempt(attemptId, `${e.kind}_error`, {
            errorCode: e.errorCode,
            durationMs: performance.now() - started,
          });
          this.metrics.deliveryAttempts.inc({ provider: provider.name, outcome: `${e.kind}_error` });
          throw e;
        }
        await this.repository.recordSent(
          attemptId,
          message.codeId,
          { provider: provider.name, durationMs: performance.now() - started, ...sent },
          this.clock.now(),
        );
        return { attemptId, ...sent };
      });
      // Latency and outcome counters: DeliveryRepository, where the code's status moves.
      this.metrics.deliveryAttempts.inc({ provider: provider.name, outcome: 'sent' });
      this.logger.log(
        { codeId: message.codeId, provider: provider.name, phoneMasked: maskPhone(message.phone) },
        'code sent',
      );
      if (!provider.awaitDelivery) return { result: 'sent' };
      const state = await provider.awaitDelivery(result.providerMessageId);
      if (state === 'delivered') {
        await this.repository.markDelivered(message.codeId, this.clock.now());
      }
      if (state === 'sent' || state === 'delivered') return { result: 'sent' };
      await this.repository.finishAttempt(result.attemptId, 'not_delivered', {
        providerStatus: state,
        errorCode: `stuck_${state}`,
        durationMs: 0,
      });
      return { result: 'failed', errorCode: `${provider.name}_${state}` };
    } catch (error) {
      if (error instanceof CodeNoLongerValid) return { result: 'no_longer_valid' };
      if (ProviderRouter.isOpenCircuit(error)) {
        await this.skip(message.codeId, provider.name, 'circuit_open');
        return { result: 'failed', errorCode: 'circuit_open' };
      }
      const e = asProviderError(provider.name, error);
      if (e.kind === 'rate_limited') {
        return {
          result: 'rate_limited',
          errorCode: e.errorCode,
          waitMs: Math.max(MIN_RATE_LIMIT_WAIT_MS, e.options.retryAfterMs ?? this.config.rateLimitWaitMs),
          scope: e.options.scope ?? 'provider',
        };
      }
      if (e.kind === 'configuration') {
        await this.repository.setProviderState(provider.name, 'misconfigured', {
          errorCode: e.errorCode,
          at: this.clock.now(),
        });
        this.logger.error(
          { provider: provider.name, errorCode: e.errorCode },
          'provider misconfigured: skipped until fixed',
        );
      }
      return { result: 'failed', errorCode: e.errorCode };
    }
  }

  private async skip(codeId: string, provider: string, reason: string): Promise<void> {
    await this.repository.recordSkipped(codeId, provider, reason);
    this.metrics.deliveryAttempts.inc({ provider, outcome: 'skipped' });
  }
}

const NO_LONGER_VALID = 'code_no_longer_valid';

/** Thrown inside a provider try when the code stopped being worth sending: not a provider failure. */
class CodeNoLongerValid extends Error {
  override readonly name = 'CodeNoLongerValid';
}

/**
 * The chain for a job whose attempts with `inDoubt` providers were left in doubt by a crash: the
 * providers after the (last) in-doubt one first, then those before it, the in-doubt ones last.
 */
function inDoubtLast(providers: WhatsAppProvider[], inDoubt: Set<string>): WhatsAppProvider[] {
  if (inDoubt.size === 0) return providers;
  const last = providers.reduce((at, p, i) => (inDoubt.has(p.name) ? i : at), -1);
  const rotated = [...providers.slice(last + 1), ...providers.slice(0, last + 1)];
  return [...rotated.filter((p) => !inDoubt.has(p.name)), ...rotated.filter((p) => inDoubt.has(p.name))];
}

function earliest(a: Date | undefined, b: Date): Date {
  return a && a <= b ? a : b;
}

function asProviderError(provider: WhatsAppProvider['name'], error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  return new ProviderError(
    provider,
    'retryable',
    'unexpected_error',
    error instanceof Error ? error.message : String(error),
  );
}
