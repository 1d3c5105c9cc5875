import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  Clock,
  DomainError,
  isVerifyOutcome,
  maskPhone,
  type NormalisedPhone,
  normalisePhone,
  type VerifyOutcome,
} from '../common/index.js';
import { otpConfig, type OtpConfig, throttleConfig, type ThrottleConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import {
  DEFAULT_PURPOSE,
  generateCode,
  OtpCrypto,
  TEST_NUMBER_JOB_PAYLOAD,
  TestNumbers,
} from '../codes/index.js';
import { refuse } from '../throttling/index.js';
import { type CodeForVerify, OtpRepository, type VerifyLimitsState } from './otp.repository.js';
import { LIMIT_WINDOW_MS, SEND_PHONE, VERIFY_PHONE } from './phone-limits.js';

export interface IssueRequest {
  phone: string;
  defaultCountry?: string;
  purpose?: string;
  locale?: string;
  client: string;
}

export interface IssueResponse {
  id: string;
  phone: string;
  purpose: string;
  status: 'pending';
  delivery: { status: 'queued' };
  expiresAt: string;
  expiresIn: number;
  resendAvailableAt: string;
  attemptsRemaining: number;
}

export interface VerifyRequest {
  /** The calling backend (ApiKeyGuard): codes belong to the client that issued them (API.md A1). */
  client: string;
  phone: string;
  code: string;
  purpose?: string;
  defaultCountry?: string;
}

export interface VerifyResponse {
  verified: true;
  id: string;
  verifiedAt: string;
}

@Injectable()
export class OtpService {
  private readonly logger = new Logger(OtpService.name);

  constructor(
    private readonly repository: OtpRepository,
    private readonly crypto: OtpCrypto,
    private readonly clock: Clock,
    @Inject(otpConfig.KEY) private readonly config: OtpConfig,
    @Inject(throttleConfig.KEY) private readonly throttle: ThrottleConfig,
    private readonly metrics: MetricsService,
    @Optional() private readonly testNumbers?: TestNumbers,
  ) {}

  /** E.164 for any spelling of a mobile-capable number, or `400 invalid_phone`. */
  normalise(phone: string, defaultCountry?: string): string {
    return this.normalised(phone, defaultCountry).e164;
  }

  /** The number in E.164 with its country, or `400 invalid_phone`. */
  normalised(phone: string, defaultCountry?: string): NormalisedPhone {
    const normalised = normalisePhone(phone, defaultCountry ?? this.config.defaultCountry);
    if (!normalised) throw new DomainError('invalid_phone');
    return normalised;
  }

  async issue(request: IssueRequest): Promise<IssueResponse> {
    const phone = this.normalise(request.phone, request.defaultCountry);
    const purpose = request.purpose ?? DEFAULT_PURPOSE;
    const now = this.clock.now();
    const id = randomUUID();
    // A test number (OTP_TEST_NUMBERS, only when enabled) gets its fixed code and a job without it.
    const testCode = this.testNumbers?.codeFor(phone);
    const code = testCode ?? generateCode(this.config.length);
    const { hash, keyId } = this.crypto.hasher.hash({ id, phone, purpose }, code);
    const expiresAt = new Date(now.getTime() + this.config.ttlSeconds * 1000);
    const result = await this.repository.issue(
      {
        id,
        phone,
        purpose,
        codeHash: hash,
        hashKeyId: keyId,
        client: request.client,
        locale: request.locale ?? null,
        maxAttempts: this.config.maxAttempts,
        createdAt: now,
        expiresAt,
        jobPayload: testCode ? TEST_NUMBER_JOB_PAYLOAD : this.crypto.cipher.encrypt(code, id),
      },
      this.config.resendCooldownSeconds,
      { limit: this.throttle.sendPerPhoneHour, scope: this.throttle.sendPerPhoneScope },
    );
    const log = { client: request.client, phoneMasked: maskPhone(phone) };
    if (result.kind === 'locked') throw this.tooManyFailures(result.lockedUntil, now, log);
    if (result.kind === 'limited') {
      // Decision 1: a window filled (even in part) by other clients' sends says only "the full
      // window", never a time that would reveal when another client sent.
      const own = result.sentBy.every((c) => c === request.client);
      const freedAt = result.sentAt[result.sentAt.length - this.throttle.sendPerPhoneHour];
      const seconds =
        own && freedAt
          ? (freedAt.getTime() + LIMIT_WINDOW_MS - now.getTime()) / 1000
          : LIMIT_WINDOW_MS / 1000;
      throw refuse(this.metrics, this.logger, SEND_PHONE, seconds, log);
    }
    if (result.kind === 'cooldown') {
      const availableAt = result.lastIssuedAt.getTime() + this.config.resendCooldownSeconds * 1000;
      const retryAfter = Math.max(1, Math.ceil((availableAt - now.getTime()) / 1000));
      this.metrics.resendsRefused.inc();
      throw new DomainError('resend_cooldown', {
        retryAfterSeconds: retryAfter,
        details: { retryAfterSeconds: retryAfter, resendAvailableAt: new Date(availableAt).toISOString() },
      });
    }
    this.logger.log(
      {
        codeId: id,
        phoneMasked: maskPhone(phone),
        purpose,
        client: request.client,
        replaced: result.canceledPrevious,
      },
      'code issued',
    );
    this.metrics.codesIssued.inc({ client: request.client });
    return {
      id,
      phone,
      purpose,
      status: 'pending',
      delivery: { status: 'queued' },
      expiresAt: expiresAt.toISOString(),
      expiresIn: this.config.ttlSeconds,
      resendAvailableAt: new Date(now.getTime() + this.config.resendCooldownSeconds * 1000).toISOString(),
      attemptsRemaining: this.config.maxAttempts,
    };
  }

  /**
   * Finds the newest code for the phone and purpose, compares keyed hashes in constant time, then
   * lets one conditional UPDATE count the attempt and, if right, mark the code used. Parallel
   * requests race in the database: one right code verifies once, wrong guesses stop at the limit.
   */
  async verify(request: VerifyRequest): Promise<VerifyResponse> {
    try {
      const result = await this.check(request);
      this.metrics.verifications.inc({ outcome: 'verified' });
      return result;
    } catch (error) {
      // Outcomes only (VERIFY_OUTCOMES: a wrong, missing, expired or burnt code, a lockout); not
      // bad input, not a rate limit.
      if (error instanceof DomainError && isVerifyOutcome(error.code)) {
        this.metrics.verifications.inc({ outcome: error.code });
      }
      throw error;
    }
  }

  private async check(request: VerifyRequest): Promise<VerifyResponse> {
    const phone = this.normalise(request.phone, request.defaultCountry);
    const purpose = request.purpose ?? DEFAULT_PURPOSE;
    const client = request.client;
    const now = this.clock.now();
    const windowStart = new Date(now.getTime() - LIMIT_WINDOW_MS);
    const log = { client, phoneMasked: maskPhone(phone) };
    const lookup = await this.repository.findNewest(phone, purpose, client);
    // A lockout refuses before any comparison. The verify limit's window is checked by the attempt
    // statement, for a right code as for a wrong one (so a refusal tells nothing about the guess).
    this.rejectIfLocked(lookup.lockedUntil, now, log);
    const row = lookup.code;
    if (!row) {
      // Same work as a real comparison, so "no code" and "wrong code" cost alike.
      this.crypto.hasher.matches({ id: randomUUID(), phone, purpose }, request.code, '', '');
      return this.answerNotCounted(undefined, phone, client, now, log);
    }
    const matched = this.crypto.hasher.matches(row, request.code, row.codeHash, row.hashKeyId);
    // Unusable stays unusable: the row read here answers, no second read.
    if (isUnusable(row, now)) return this.answerNotCounted(row, phone, client, now, log);
    const outcome = await this.repository.recordAttempt({ id: row.id, phone, client }, matched, now, {
      perHour: this.throttle.verifyPerPhoneHour,
      windowStart,
      maxConsecutiveFailures: this.config.maxConsecutiveFailures,
      lockoutUntil: new Date(now.getTime() + this.config.lockoutSeconds * 1000),
    });
    if (outcome.kind === 'not_counted') return this.answerNotCounted(row.id, phone, client, now, log);
    const result = outcome.result;
    if (result.status === 'verified' && result.usedAt) {
      this.metrics.codeVerified({ provider: result.deliveryProvider, phone });
      this.logger.log({ codeId: row.id, phoneMasked: maskPhone(phone), purpose }, 'code verified');
      return { verified: true, id: row.id, verifiedAt: result.usedAt.toISOString() };
    }
    const attemptsRemaining = Math.max(0, result.maxAttempts - result.attempts);
    this.logger.log({ codeId: row.id, phoneMasked: maskPhone(phone), attemptsRemaining }, 'wrong code');
    // The guess that uses up the last attempt is still answered as what it was; the next one,
    // right or wrong, gets max_attempts_reached.
    throw verifyError('invalid_code', attemptsRemaining);
  }

  /**
   * Why nothing was counted, in Decision 4's order: the (client, phone)'s verify limits first (the
   * window full, or a lockout reached before or by a parallel wrong code: 429 with their
   * Retry-After), then the code's state (not_found, expired, max_attempts_reached): the row given,
   * or, given an id (the attempt statement counted nothing), the row as it is now.
   */
  private async answerNotCounted(
    code: CodeForVerify | string | undefined,
    phone: string,
    client: string,
    now: Date,
    log: Record<string, unknown>,
  ): Promise<never> {
    const windowStart = new Date(now.getTime() - LIMIT_WINDOW_MS);
    this.rejectIfGuarded(await this.repository.verifyLimits(phone, client, windowStart), now, log);
    const current = typeof code === 'string' ? await this.repository.findById(code) : code;
    if (!current) throw verifyError('not_found');
    this.rejectIfUnusable(current, now);
    // Usable, and the limits have room again: they refused an instant ago (a parallel attempt).
    throw refuse(this.metrics, this.logger, VERIFY_PHONE, 1, log);
  }

  /** The consecutive-failure lockout (429 too_many_failures), a right code refused too. */
  private rejectIfLocked(lockedUntil: Date | undefined, now: Date, log: Record<string, unknown>): void {
    if (lockedUntil && lockedUntil.getTime() > now.getTime())
      throw this.tooManyFailures(lockedUntil, now, log);
  }

  /**
   * The (client, phone)'s own verify limits as they stand after the attempt statement refused (a
   * right code is refused too, or the answer would tell an attacker which guess was right): the
   * lockout (429 too_many_failures) and the wrong codes of the rolling hour (429 rate_limited).
   */
  private rejectIfGuarded(state: VerifyLimitsState, now: Date, log: Record<string, unknown>): void {
    this.rejectIfLocked(state.lockedUntil, now, log);
    const limit = this.throttle.verifyPerPhoneHour;
    const failures = state.recentFailures;
    if (limit > 0 && failures.length >= limit) {
      // The window admits a new try when the oldest failure that keeps it full leaves it.
      const freedAt = failures[failures.length - limit].getTime() + LIMIT_WINDOW_MS;
      throw refuse(this.metrics, this.logger, VERIFY_PHONE, (freedAt - now.getTime()) / 1000, log);
    }
  }

  private tooManyFailures(lockedUntil: Date, now: Date, log: Record<string, unknown>): DomainError {
    const seconds = Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
    this.metrics.throttled.inc({ throttler: 'too-many-failures' });
    this.logger.warn({ ...log, retryAfterSeconds: seconds }, 'refused: too many consecutive failures');
    return new DomainError('too_many_failures', {
      retryAfterSeconds: seconds,
      details: { retryAfterSeconds: seconds },
    });
  }

  private rejectIfUnusable(row: CodeForVerify, now: Date): void {
    if (row.status === 'verified' || row.status === 'canceled') {
      throw verifyError('not_found');
    }
    if (row.status === 'max_attempts_reached' || row.attempts >= row.maxAttempts) {
      throw verifyError('max_attempts_reached');
    }
    if (row.status === 'expired' || row.expiresAt.getTime() <= now.getTime()) {
      throw verifyError('expired');
    }
  }
}

/** The code can no longer take a try (used, replaced, burnt or expired). */
function isUnusable(row: CodeForVerify, now: Date): boolean {
  return (
    row.status !== 'pending' || row.attempts >= row.maxAttempts || row.expiresAt.getTime() <= now.getTime()
  );
}

/** A verify outcome; how verify answers it (`verified: false`, not_found as 400) is VERIFY_ANSWERS. */
function verifyError(
  code: Exclude<VerifyOutcome, 'too_many_failures'>,
  attemptsRemaining?: number,
): DomainError {
  return new DomainError(code, { attemptsRemaining });
}
