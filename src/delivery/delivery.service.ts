import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { maskPhone } from '../common/index.js';
import { deliveryConfig, type DeliveryConfig, otpConfig, type OtpConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { OtpCrypto } from '../codes/index.js';
import { generateCode } from '../codes/index.js';
import { OneTimeCodesRepository } from '../codes/index.js';
import { ProviderError, type ProviderErrorKind, type RateLimitScope } from '../providers/index.js';
import { TEST_NUMBER_JOB_PAYLOAD } from '../codes/index.js';
import type { OtpMessage, SendResult, WhatsAppProvider } from '../providers/index.js';
import {
  DELIVER_OTP_TASK,
  type DeliverOtpPayload,
  type FallbackPayload,
  fallbackSendKey,
} from './queue/index.js';
import {
  type AttemptOutcome,
  DeliveryAttemptsRepository,
  type DeliveryTarget,
  type PreparedDelivery,
} from './delivery-attempts.repository.js';
import { FaultHook } from './fault-hook.js';
import { JobQueueRepository } from './job-queue.repository.js';
import { ProviderRouter } from './provider-router.js';
import { ProviderStatesRepository } from './provider-states.repository.js';

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

/**
 * What one provider's step came to for this code (its retries and circuit breaker included).
 * `accepted` means the provider took the message: the handset's "delivered" comes later, by webhook.
 */
export type ProviderOutcome =
  | { kind: 'accepted' }
  /** Worth another try: elsewhere now, or here after `wait` when the provider asked us to wait. */
  | { kind: 'retryable'; errorCode: string; wait?: { ms: number; scope: RateLimitScope } }
  /** This provider will not deliver this code (or failed it after accepting): the next one is asked. */
  | { kind: 'permanent'; errorCode: string }
  /** The provider was not called. */
  | ({ kind: 'skipped' } & Skip);

/** Why a provider was not called. */
type Skip =
  /** Reported down or misconfigured (provider_states): `state` is recorded as the reason. */
  | { reason: 'unhealthy'; state: string }
  /** It asked every code to wait (a provider-wide rate limit) until then. */
  | { reason: 'paused'; until: Date }
  | { reason: 'circuit_open' }
  /** The code itself stopped being worth sending (verified, replaced, expired): the chain stops. */
  | { reason: 'code_no_longer_valid' };

/** What the chain does after one provider's outcome. */
type Next =
  /** Accepted, rescheduled, or the code is gone: this job is done. */
  | { then: 'stop' }
  /** On to the next provider; `errorCode` becomes the delivery's error if none takes it. */
  | { then: 'next'; errorCode?: string; retryAt?: Date };

/** A provider took the message on this attempt. */
interface Accepted extends SendResult {
  attemptId: string;
}

/** The attempt row's outcome for each kind of provider error. */
const ERROR_OUTCOME: Record<ProviderErrorKind, AttemptOutcome> = {
  retryable: 'retryable_error',
  rate_limited: 'rate_limited_error',
  permanent: 'permanent_error',
  configuration: 'configuration_error',
};

/**
 * Gets one accepted code to the user through the first provider that works. Runs inside a
 * graphile-worker job; provider failures never throw out of here (the job would keep its
 * encrypted payload for retries); only database trouble does, and then the queue retries.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly attempts: DeliveryAttemptsRepository,
    private readonly codes: OneTimeCodesRepository,
    private readonly providerStates: ProviderStatesRepository,
    private readonly queue: JobQueueRepository,
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
      await this.codes.markFailed(payload.id, 'test_number', this.clock.now());
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
    const target = await this.attempts.target(payload.id);
    if (!target) return;
    if (this.router.after(payload.failedProvider).length === 0) {
      await this.codes.markFailed(payload.id, 'all_providers_failed', this.clock.now());
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
    await this.queue.rekeyAndResend(
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
    const prepared = await this.attempts.prepare(codeId, now);
    if (!prepared) return;
    const { target, inDoubt, tookIt } = prepared;
    if (await this.settledWithoutSending(codeId, prepared, providers, job, now)) return;
    const message = messageFor(codeId, code, target, now);
    if (inDoubt.size > 0) {
      this.logger.warn(
        { codeId, inDoubt: [...inDoubt], phoneMasked: maskPhone(target.phone) },
        'attempt in doubt after a crash: sending the same code again',
      );
    }
    /** The earliest a provider that asked us to wait takes messages again, if the code lives that long. */
    let retryAt: Date | undefined;
    let lastError = 'no_provider_available';
    for (const provider of inDoubtLast(providers, inDoubt)) {
      // A provider that took this code in an earlier run of the job is never asked again.
      if (tookIt.has(provider.name)) continue;
      const outcome = this.skipped(provider, prepared) ?? (await this.step(provider, message));
      const next = await this.decide(provider, outcome, job, target.expiresAt);
      if (next.then === 'stop') return;
      lastError = next.errorCode ?? lastError;
      if (next.retryAt) retryAt = earliest(retryAt, next.retryAt);
    }
    if (retryAt) {
      // Nobody took it, but a provider that asked us to wait will take it while the code lives.
      await this.rescheduleAt(job, retryAt, lastError);
      return;
    }
    await this.codes.markFailed(codeId, lastError, this.clock.now());
    this.logger.warn(
      { codeId, phoneMasked: maskPhone(target.phone), error: lastError },
      'delivery failed on every provider',
    );
  }

  /**
   * True when this run sends nothing, the code's delivery then settled here: a re-run after the
   * delivery finished, a code no longer worth sending (verified, burnt, replaced, expired), or an
   * opted-out contact.
   */
  private async settledWithoutSending(
    codeId: string,
    { target, inDoubt, tookIt }: PreparedDelivery,
    providers: WhatsAppProvider[],
    job: DeliveryJob,
    now: Date,
  ): Promise<boolean> {
    const finished =
      job.kind === 'first'
        ? target.deliveryStatus !== 'queued'
        : !['queued', 'sent'].includes(target.deliveryStatus) || providers.some((p) => tookIt.has(p.name));
    if (finished) {
      this.logger.log(
        { codeId, deliveryStatus: target.deliveryStatus },
        'delivery already finished; job re-run ignored',
      );
      return true;
    }
    if (target.status !== 'pending' || target.expiresAt <= now) {
      if (target.status === 'verified' && inDoubt.size > 0) {
        // Verified with the digits of an attempt in doubt: that message did reach the user.
        await this.codes.markSentInDoubt(codeId, [...inDoubt][0], now);
        return true;
      }
      // Verified, burnt, replaced or expired before it went out: nothing is sent.
      await this.codes.markFailed(codeId, NO_LONGER_VALID, now);
      return true;
    }
    if (target.optedOutAt) {
      // The send answered 202 like any other; only the delivery shows the opt-out.
      await this.codes.markFailed(codeId, 'opted_out', now);
      return true;
    }
    return false;
  }

  /** A provider to leave out without calling it: reported unhealthy, or paused by its rate limit. */
  private skipped(provider: WhatsAppProvider, prepared: PreparedDelivery): ProviderOutcome | undefined {
    const state = prepared.unhealthy.get(provider.name);
    if (state !== undefined) return { kind: 'skipped', reason: 'unhealthy', state };
    const pausedUntil = prepared.paused.get(provider.name);
    if (pausedUntil && pausedUntil > this.clock.now())
      return { kind: 'skipped', reason: 'paused', until: pausedUntil };
    return undefined;
  }

  /**
   * One provider's step: its tries (with the router's retries and circuit breaker), then, for a
   * provider that reports back at once, whether it failed the message after all.
   */
  private async step(provider: WhatsAppProvider, message: OtpMessage): Promise<ProviderOutcome> {
    try {
      const accepted = await this.router.execute(provider, (signal) =>
        this.attempt(provider, message, signal),
      );
      return await this.confirm(provider, message, accepted);
    } catch (error) {
      return this.classify(provider, error);
    }
  }

  /**
   * One try (the router may run several): recorded in flight first, and only while the code is
   * still worth sending, in the same statement; then the provider call and its recorded answer.
   */
  private async attempt(
    provider: WhatsAppProvider,
    message: OtpMessage,
    signal: AbortSignal,
  ): Promise<Accepted> {
    const attemptId = await this.attempts.startAttempt(message.codeId, provider.name, this.clock.now());
    if (!attemptId) throw new CodeNoLongerValid();
    await this.faults.reached('attempt_recorded', { codeId: message.codeId, provider: provider.name });
    const started = performance.now();
    const sent = await this.callProvider(provider, { ...message, attemptId }, attemptId, started, signal);
    await this.attempts.recordSent(
      attemptId,
      message.codeId,
      { provider: provider.name, durationMs: performance.now() - started, ...sent },
      this.clock.now(),
    );
    return { attemptId, ...sent };
  }

  /** The provider call; a failure is recorded on the attempt (and counted) before it is rethrown. */
  private async callProvider(
    provider: WhatsAppProvider,
    message: OtpMessage,
    attemptId: string,
    started: number,
    signal: AbortSignal,
  ): Promise<SendResult> {
    try {
      return await provider.send(message, signal);
    } catch (error) {
      const e = asProviderError(provider.name, error);
      const outcome = ERROR_OUTCOME[e.kind];
      await this.attempts.finishAttempt(attemptId, outcome, {
        errorCode: e.errorCode,
        durationMs: performance.now() - started,
      });
      this.metrics.deliveryAttempts.inc({ provider: provider.name, outcome });
      throw e;
    }
  }

  /**
   * The provider accepted: counted and logged, and when it reports the message's fate at once
   * (awaitDelivery), a message it failed after all falls back like a permanent error.
   */
  private async confirm(
    provider: WhatsAppProvider,
    message: OtpMessage,
    accepted: Accepted,
  ): Promise<ProviderOutcome> {
    // Latency and outcome counters: DeliveryAttemptsRepository, where the code's status moves.
    this.metrics.deliveryAttempts.inc({ provider: provider.name, outcome: 'sent' });
    this.logger.log(
      { codeId: message.codeId, provider: provider.name, phoneMasked: maskPhone(message.phone) },
      'code sent',
    );
    if (!provider.awaitDelivery) return { kind: 'accepted' };
    const state = await provider.awaitDelivery(accepted.providerMessageId);
    if (state === 'delivered') {
      await this.codes.markDelivered(message.codeId, this.clock.now());
    }
    if (state === 'sent' || state === 'delivered') return { kind: 'accepted' };
    await this.attempts.finishAttempt(accepted.attemptId, 'not_delivered', {
      providerStatus: state,
      errorCode: `stuck_${state}`,
      durationMs: 0,
    });
    return { kind: 'permanent', errorCode: `${provider.name}_${state}` };
  }

  /** What a step's failure means: the code is gone, the circuit is open, or the provider's error kind. */
  private async classify(provider: WhatsAppProvider, error: unknown): Promise<ProviderOutcome> {
    if (error instanceof CodeNoLongerValid) return { kind: 'skipped', reason: 'code_no_longer_valid' };
    if (ProviderRouter.isOpenCircuit(error)) return { kind: 'skipped', reason: 'circuit_open' };
    const e = asProviderError(provider.name, error);
    switch (e.kind) {
      case 'rate_limited':
        return {
          kind: 'retryable',
          errorCode: e.errorCode,
          wait: {
            ms: Math.max(MIN_RATE_LIMIT_WAIT_MS, e.options.retryAfterMs ?? this.config.rateLimitWaitMs),
            scope: e.options.scope ?? 'provider',
          },
        };
      case 'retryable':
        return { kind: 'retryable', errorCode: e.errorCode };
      case 'configuration':
        await this.providerStates.setState(provider.name, 'misconfigured', {
          errorCode: e.errorCode,
          at: this.clock.now(),
        });
        this.logger.error(
          { provider: provider.name, errorCode: e.errorCode },
          'provider misconfigured: skipped until fixed',
        );
        return { kind: 'permanent', errorCode: e.errorCode };
      case 'permanent':
        return { kind: 'permanent', errorCode: e.errorCode };
    }
  }

  /**
   * The chain's next move after one provider's outcome. A provider that asks us to wait is paused
   * (its own limit) or the code is delayed (a per-recipient limit), by rescheduling this job, never
   * by sleeping in it; when the code would expire first, the next provider is asked instead.
   */
  private async decide(
    provider: WhatsAppProvider,
    outcome: ProviderOutcome,
    job: DeliveryJob,
    expiresAt: Date,
  ): Promise<Next> {
    const canWaitUntil = (at: Date) => at.getTime() + MIN_LIFE_AT_SEND_MS <= expiresAt.getTime();
    switch (outcome.kind) {
      case 'accepted':
        return { then: 'stop' };
      case 'permanent':
        return { then: 'next', errorCode: outcome.errorCode };
      case 'skipped':
        return this.afterSkip(job.payload.id, provider, outcome, canWaitUntil);
      case 'retryable': {
        if (!outcome.wait) return { then: 'next', errorCode: outcome.errorCode };
        const until = new Date(this.clock.now().getTime() + outcome.wait.ms);
        if (outcome.wait.scope === 'provider') {
          // Its own limit: every code skips it until then (other codes fall back meanwhile).
          await this.providerStates.pause(provider.name, until);
          this.logger.warn(
            { provider: provider.name, errorCode: outcome.errorCode, pausedUntil: until.toISOString() },
            'provider asked us to wait: paused',
          );
        }
        // The code would expire first: fall back instead.
        if (!canWaitUntil(until)) return { then: 'next', errorCode: outcome.errorCode };
        if (outcome.wait.scope === 'recipient') {
          // This recipient's limit: this code waits for the same provider.
          await this.rescheduleAt(job, until, provider.name);
          return { then: 'stop' };
        }
        return { then: 'next', errorCode: outcome.errorCode, retryAt: until };
      }
    }
  }

  /** A provider left out: recorded as a skipped attempt, unless the code itself is gone (it fails). */
  private async afterSkip(
    codeId: string,
    provider: WhatsAppProvider,
    skip: Skip,
    canWaitUntil: (at: Date) => boolean,
  ): Promise<Next> {
    switch (skip.reason) {
      case 'code_no_longer_valid':
        await this.codes.markFailed(codeId, NO_LONGER_VALID, this.clock.now());
        return { then: 'stop' };
      case 'unhealthy':
        await this.recordSkip(codeId, provider.name, skip.state);
        return { then: 'next' };
      case 'paused':
        await this.recordSkip(codeId, provider.name, 'rate_limited');
        return {
          then: 'next',
          errorCode: 'rate_limited',
          retryAt: canWaitUntil(skip.until) ? skip.until : undefined,
        };
      case 'circuit_open':
        await this.recordSkip(codeId, provider.name, 'circuit_open');
        return { then: 'next', errorCode: 'circuit_open' };
    }
  }

  private async rescheduleAt(job: DeliveryJob, runAt: Date, reason: string): Promise<void> {
    await this.queue.reschedule(DELIVER_OTP_TASK, job.payload, job.key, runAt);
    this.logger.log({ codeId: job.payload.id, runAt: runAt.toISOString(), reason }, 'delivery rescheduled');
  }

  private async recordSkip(codeId: string, provider: string, reason: string): Promise<void> {
    await this.attempts.recordSkipped(codeId, provider, reason);
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

/** The message for the provider: the digits and what the templates need, the session window. */
function messageFor(codeId: string, code: string, target: DeliveryTarget, now: Date): OtpMessage {
  return {
    codeId,
    phone: target.phone,
    code,
    ttlMinutes: Math.max(1, Math.round((target.expiresAt.getTime() - now.getTime()) / 60_000)),
    locale: target.locale ?? undefined,
    withinSessionWindow:
      !!target.lastInboundAt && now.getTime() - target.lastInboundAt.getTime() < SESSION_WINDOW_MS,
  };
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
