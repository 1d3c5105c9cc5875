import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock/clock.js';
import { maskPhone } from '../common/phone/phone.js';
import { otpConfig, type OtpConfig } from '../config/index.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OtpCrypto } from '../otp/otp.crypto.js';
import { generateCode } from '../otp/code-generator.js';
import { ProviderError } from '../providers/provider.error.js';
import { TEST_NUMBER_JOB_PAYLOAD } from '../throttling/test-numbers.js';
import type { OtpMessage, WhatsAppProvider } from '../providers/provider.interface.js';
import type { DeliverOtpPayload, FallbackPayload } from './delivery.constants.js';
import { DeliveryRepository } from './delivery.repository.js';
import { ProviderRouter } from './provider-router.js';

const SESSION_WINDOW_MS = 24 * 3600_000;

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
    @Inject(otpConfig.KEY) private readonly otp: OtpConfig,
  ) {}

  /** The delivery job of a freshly issued code. */
  async deliver(payload: DeliverOtpPayload): Promise<void> {
    if (payload.c === TEST_NUMBER_JOB_PAYLOAD) {
      // OTP_TEST_NUMBERS: a fixed code for reviewers and QA, never handed to a provider.
      await this.repository.markFailed(payload.id, 'test_number', this.clock.now());
      return;
    }
    const code = this.crypto.cipher.decrypt(payload.c, payload.id);
    await this.run(payload.id, code, this.router.after(), 'first');
  }

  /** A provider reported failure after accepting: new digits, through the providers after it. */
  async fallback(payload: FallbackPayload): Promise<void> {
    const target = await this.repository.target(payload.id);
    if (!target) return;
    const providers = this.router.after(payload.failedProvider);
    if (providers.length === 0) {
      await this.repository.markFailed(payload.id, 'all_providers_failed', this.clock.now());
      return;
    }
    const code = generateCode(this.otp.length);
    const { hash, keyId } = this.crypto.hasher.hash(
      { id: payload.id, phone: target.phone, purpose: target.purpose },
      code,
    );
    if (!(await this.repository.rekey(payload.id, hash, keyId, this.clock.now()))) return;
    await this.run(payload.id, code, providers, 'fallback');
  }

  /**
   * `first`: the send's own job. It can run again after it already handed the message over (its
   * completion was lost with the database connection; the lock was then released): a delivery that
   * is no longer `queued` is left alone, and a provider never gets the same code twice.
   */
  private async run(
    codeId: string,
    code: string,
    providers: WhatsAppProvider[],
    kind: 'first' | 'fallback',
  ): Promise<void> {
    const prepared = await this.repository.prepare(codeId);
    const now = this.clock.now();
    if (!prepared) return;
    const { target, inDoubt, tookIt, unhealthy } = prepared;
    if (kind === 'first' && target.deliveryStatus !== 'queued') {
      this.logger.log(
        { codeId, deliveryStatus: target.deliveryStatus },
        'delivery already finished; job re-run ignored',
      );
      return;
    }
    if (target.status !== 'pending' || target.expiresAt <= now) {
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
    let lastError = 'no_provider_available';
    for (const provider of providers) {
      // A provider that took this code in an earlier run of the job, or may have (a worker died
      // during its call, leaving the attempt in flight), is never asked again.
      if (tookIt.has(provider.name)) continue;
      if (inDoubt.has(provider.name)) {
        lastError = 'in_doubt_after_crash';
        continue;
      }
      if (unhealthy.has(provider.name)) {
        await this.skip(codeId, provider.name, unhealthy.get(provider.name) as string);
        continue;
      }
      const outcome = await this.tryProvider(provider, message);
      if (outcome === 'delivered') return;
      if (outcome === NO_LONGER_VALID) {
        await this.repository.markFailed(codeId, NO_LONGER_VALID, this.clock.now());
        return;
      }
      lastError = outcome;
    }
    await this.repository.markFailed(codeId, lastError, this.clock.now());
    this.logger.warn(
      { codeId, phoneMasked: maskPhone(target.phone), error: lastError },
      'delivery failed on every provider',
    );
  }

  /**
   * 'delivered' when the provider took the message (and, if it can tell, did not drop it);
   * NO_LONGER_VALID when the code was verified, replaced or expired before this try; else an error code.
   */
  private async tryProvider(provider: WhatsAppProvider, message: OtpMessage): Promise<string> {
    try {
      const result = await this.router.execute(provider, async (signal) => {
        // Each try (retries too) first checks the code is still worth sending, in the same statement.
        const attemptId = await this.repository.startAttempt(message.codeId, provider.name, this.clock.now());
        if (!attemptId) throw new CodeNoLongerValid();
        const started = performance.now();
        let sent;
        try {
          sent = await provider.send(message, signal);
        } catch (error) {
          const e = asProviderError(provider.name, error);
          await this.repository.finishAttempt(attemptId, `${e.kind}_error` as 'retryable_error', {
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
      if (!provider.awaitDelivery) return 'delivered';
      const state = await provider.awaitDelivery(result.providerMessageId);
      if (state === 'delivered') {
        await this.repository.markDelivered(message.codeId, this.clock.now());
      }
      if (state === 'sent' || state === 'delivered') return 'delivered';
      await this.repository.finishAttempt(result.attemptId, 'not_delivered', {
        providerStatus: state,
        errorCode: `stuck_${state}`,
        durationMs: 0,
      });
      return `${provider.name}_${state}`;
    } catch (error) {
      if (error instanceof CodeNoLongerValid) return NO_LONGER_VALID;
      if (ProviderRouter.isOpenCircuit(error)) {
        await this.skip(message.codeId, provider.name, 'circuit_open');
        return 'circuit_open';
      }
      const e = asProviderError(provider.name, error);
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
      return e.errorCode;
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

function asProviderError(provider: WhatsAppProvider['name'], error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  return new ProviderError(
    provider,
    'retryable',
    'unexpected_error',
    error instanceof Error ? error.message : String(error),
  );
}
