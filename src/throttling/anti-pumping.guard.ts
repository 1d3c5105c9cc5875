import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import { ApiException } from '../common/errors/api.exception.js';
import { maskPhone } from '../common/phone/phone.js';
import { otpConfig, type OtpConfig, throttleConfig, type ThrottleConfig } from '../config/index.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TestNumbers } from './test-numbers.js';
import { consume } from './throttle-refusal.js';
import {
  COUNTRY_CAP,
  COUNTRY_NOT_ALLOWED,
  GLOBAL_CAP,
  HOUR_MS,
  MINUTE_MS,
  phoneOf,
  type ThrottledRequest,
} from './throttle-keys.js';

/** Country of numbers libphonenumber places in no country (non-geographic ranges). */
const NO_COUNTRY = '001';

/**
 * WhatsApp/SMS pumping defences on send, after the per-phone and per-IP throttlers: the country
 * allow-list (403 country_not_allowed), a per-country hourly cap and a global per-minute fuse (429
 * rate_limited), counted in the shared throttler store so they hold across replicas. Test numbers
 * cost nothing (never sent) and pass; a phone that does not normalise is left to validation (400).
 */
@Injectable()
export class AntiPumpingGuard implements CanActivate {
  private readonly logger = new Logger(AntiPumpingGuard.name);

  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly metrics: MetricsService,
    private readonly testNumbers: TestNumbers,
    @Inject(throttleConfig.KEY) private readonly config: ThrottleConfig,
    @Inject(otpConfig.KEY) private readonly otp: OtpConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ThrottledRequest>();
    const phone = phoneOf(req, this.otp.defaultCountry);
    if (!phone || this.testNumbers.codeFor(phone.e164) !== undefined) return true;
    const country = phone.country ?? NO_COUNTRY;
    const log = { client: req.client, phoneMasked: maskPhone(phone.e164), country };

    const allowed = this.config.allowedCountries;
    if (allowed.length > 0 && !allowed.includes(country)) {
      this.metrics.throttled.inc({ throttler: COUNTRY_NOT_ALLOWED });
      this.logger.warn({ ...log, throttler: COUNTRY_NOT_ALLOWED }, 'refused: country not allowed');
      throw new ApiException('country_not_allowed', 'Codes cannot be sent to numbers of this country', {
        details: { country },
      });
    }

    const countryLimit = this.config.countryHourlyLimits[country] ?? this.config.countryHourlyLimits['*'];
    if (countryLimit !== undefined) {
      await consume(this.storage, this.metrics, this.logger, {
        name: COUNTRY_CAP,
        key: `${this.config.redisPrefix}${COUNTRY_CAP}:${country}`,
        limit: countryLimit,
        ttl: HOUR_MS,
        log,
      });
    }
    if (this.config.globalSendsPerMinute > 0) {
      await consume(this.storage, this.metrics, this.logger, {
        name: GLOBAL_CAP,
        key: `${this.config.redisPrefix}${GLOBAL_CAP}`,
        limit: this.config.globalSendsPerMinute,
        ttl: MINUTE_MS,
        log,
      });
    }
    return true;
  }
}
