import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError, deriveThrottleKeys, maskPhone, type NormalisedPhone } from '../common/index.js';
import { otpConfig, type OtpConfig, throttleConfig, type ThrottleConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { TestNumbers } from '../codes/index.js';
import { refuse } from './throttle-refusal.js';
import {
  COUNTRY_CAP,
  COUNTRY_NOT_ALLOWED,
  GLOBAL_CAP,
  HOUR_MS,
  ipTracker,
  MINUTE_MS,
  SEND_IP,
  STORE_UNAVAILABLE,
  throttleKey,
  type ThrottledRequest,
  VERIFY_IP,
} from './throttle-keys.js';
import { OtpThrottlerStorage, ThrottleStoreUnavailableError } from './throttler-storage.js';

/** Country of numbers libphonenumber places in no country (non-geographic ranges). */
const NO_COUNTRY = '001';

/** What a request counted in the store; a later refusal gives it all back (Decision 4). */
export interface LimitTicket {
  refund(): Promise<void>;
}

interface Limit {
  name: string;
  /** One bucket, or one per OTP_HASH_SECRET entry during a rotation (all must have room). */
  keys: string[];
  limit: number;
  windowMs: number;
}

/**
 * The limits kept in the throttle store (memory, or Redis with REDIS_URL), called by the handlers
 * after authentication, validation and idempotency (Decision 4): per (client, IP) on send and
 * verify; on send also the WhatsApp/SMS-pumping rules: the country allow-list (403
 * country_not_allowed), a per-country hourly cap and a global per-minute fuse. Each limit is a
 * rolling window (sliding-window counter). A refusal by one limit takes back what the others
 * counted, and the returned ticket lets the caller take everything back when a later step (the
 * per-phone limits in PostgreSQL, a cooldown, a lockout) refuses. Test numbers skip the pumping
 * rules (they are never sent) but count per IP.
 */
@Injectable()
export class RequestLimits {
  private readonly logger = new Logger(RequestLimits.name);
  private readonly keys: Buffer[];

  constructor(
    private readonly storage: OtpThrottlerStorage,
    private readonly metrics: MetricsService,
    private readonly testNumbers: TestNumbers,
    @Inject(throttleConfig.KEY) private readonly config: ThrottleConfig,
    @Inject(otpConfig.KEY) otp: OtpConfig,
  ) {
    this.keys = deriveThrottleKeys(otp.hashSecrets);
  }

  async send(req: ThrottledRequest, phone: NormalisedPhone): Promise<LimitTicket> {
    const log = { client: req.client, phoneMasked: maskPhone(phone.e164) };
    const limits: Limit[] = [];
    if (this.config.sendPerIpHour > 0) {
      limits.push(this.ipLimit(SEND_IP, req, this.config.sendPerIpHour));
    }
    if (this.testNumbers.codeFor(phone.e164) === undefined) {
      const country = phone.country ?? NO_COUNTRY;
      const allowed = this.config.allowedCountries;
      if (allowed.length > 0 && !allowed.includes(country)) {
        this.metrics.throttled.inc({ throttler: COUNTRY_NOT_ALLOWED });
        this.logger.warn({ ...log, country, throttler: COUNTRY_NOT_ALLOWED }, 'refused: country not allowed');
        throw new DomainError('country_not_allowed', { details: { country } });
      }
      const countryLimit = this.config.countryHourlyLimits[country] ?? this.config.countryHourlyLimits['*'];
      if (countryLimit !== undefined) {
        const key = `${this.config.redisPrefix}${COUNTRY_CAP}:${country}`;
        limits.push({ name: COUNTRY_CAP, keys: [key], limit: countryLimit, windowMs: HOUR_MS });
      }
      if (this.config.globalSendsPerMinute > 0) {
        const key = `${this.config.redisPrefix}${GLOBAL_CAP}`;
        limits.push({
          name: GLOBAL_CAP,
          keys: [key],
          limit: this.config.globalSendsPerMinute,
          windowMs: MINUTE_MS,
        });
      }
    }
    return this.consume(limits, log);
  }

  async verify(req: ThrottledRequest, phone?: NormalisedPhone): Promise<LimitTicket> {
    const log = { client: req.client, phoneMasked: maskPhone(phone?.e164) };
    const limits =
      this.config.verifyPerIpHour > 0 ? [this.ipLimit(VERIFY_IP, req, this.config.verifyPerIpHour)] : [];
    return this.consume(limits, log);
  }

  private ipLimit(name: string, req: ThrottledRequest, limit: number): Limit {
    const tracker = ipTracker(req);
    const keys = this.keys.map((key) => throttleKey(this.config.redisPrefix, name, tracker, key));
    return { name, keys, limit, windowMs: HOUR_MS };
  }

  /** Counts each limit in turn; a refusal (429) or a store outage (503) takes back the earlier ones. */
  private async consume(limits: Limit[], log: Record<string, unknown>): Promise<LimitTicket> {
    const refunds: (() => Promise<void>)[] = [];
    const ticket: LimitTicket = {
      refund: async () => {
        await Promise.all(refunds.splice(0).map((r) => r()));
      },
    };
    for (const limit of limits) {
      let refusedFor = 0;
      for (const key of limit.keys) {
        let hit;
        try {
          hit = await this.storage.hit(key, limit.windowMs, limit.limit, limit.name);
        } catch (error) {
          await ticket.refund();
          if (!(error instanceof ThrottleStoreUnavailableError)) throw error;
          this.metrics.throttled.inc({ throttler: STORE_UNAVAILABLE });
          this.logger.warn({ ...log, throttler: limit.name }, 'refused: throttler store unavailable');
          throw new DomainError('service_unavailable', {
            message: 'rateLimiting',
            retryAfterSeconds: 5,
            details: { throttler: limit.name },
          });
        }
        if (!hit.allowed) {
          refusedFor = Math.max(refusedFor, hit.retryAfterMs);
          continue;
        }
        const { window, store } = hit;
        refunds.push(() => this.storage.refund(key, limit.windowMs, window, store));
      }
      if (refusedFor > 0) {
        await ticket.refund();
        throw refuse(this.metrics, this.logger, limit.name, refusedFor / 1000, log);
      }
    }
    return ticket;
  }
}
