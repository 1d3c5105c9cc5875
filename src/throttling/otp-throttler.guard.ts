import { Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { maskPhone } from '../common/phone/phone.js';
import { otpConfig, type OtpConfig } from '../config/index.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { consume } from './throttle-refusal.js';
import { phoneOf, type ThrottledRequest } from './throttle-keys.js';

/**
 * @nestjs/throttler's guard with the named throttlers of ThrottlingModule (send-phone, send-ip,
 * verify-phone, verify-ip; routes opt out of the others with @SkipThrottle). Differences from the
 * stock guard: a limit of 0 turns one throttler off; an empty tracker (a phone that does not
 * normalise) skips it; refusals are the contract's `429 rate_limited` with Retry-After, counted in
 * otp_throttled_total; a store outage follows OtpThrottlerStorage's per-route policy.
 */
@Injectable()
export class OtpThrottlerGuard extends ThrottlerGuard {
  private readonly log = new Logger(OtpThrottlerGuard.name);

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly metrics: MetricsService,
    @Inject(otpConfig.KEY) private readonly otp: OtpConfig,
  ) {
    super(options, storage, reflector);
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, blockDuration, throttler, getTracker, generateKey } = request;
    if (limit <= 0) return true;
    const { req } = this.getRequestResponse(context);
    const tracker = await getTracker(req, context);
    if (!tracker) return true;
    const name = throttler.name ?? 'default';
    const r = req as ThrottledRequest;
    await consume(this.storageService, this.metrics, this.log, {
      name,
      key: generateKey(context, tracker, name),
      limit,
      ttl,
      blockDuration,
      log: { client: r.client, phoneMasked: maskPhone(phoneOf(r, this.otp.defaultCountry)?.e164) },
    });
    return true;
  }
}
