import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Clock } from '../common/clock/clock.js';
import { ApiException } from '../common/errors/api.exception.js';
import { maskPhone, normalisePhone } from '../common/phone/phone.js';
import { otpConfig, type OtpConfig } from '../config/index.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TEST_NUMBER_JOB_PAYLOAD, TestNumbers } from '../throttling/test-numbers.js';
import { generateCode } from './code-generator.js';
import { OtpCrypto } from './otp.crypto.js';
import { type CodeForVerify, OtpRepository } from './otp.repository.js';

export const DEFAULT_PURPOSE = 'login';

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
    private readonly metrics: MetricsService,
    @Optional() private readonly testNumbers?: TestNumbers,
  ) {}

  /** E.164 for any spelling of a mobile-capable number, or `400 invalid_phone`. */
  normalise(phone: string, defaultCountry?: string): string {
    const normalised = normalisePhone(phone, defaultCountry ?? this.config.defaultCountry);
    if (!normalised) throw new ApiException('invalid_phone', 'phone is not a valid mobile number');
    return normalised.e164;
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
    );
    if (result.kind === 'cooldown') {
      const availableAt = result.lastIssuedAt.getTime() + this.config.resendCooldownSeconds * 1000;
      const retryAfter = Math.max(1, Math.ceil((availableAt - now.getTime()) / 1000));
      this.metrics.resendsRefused.inc();
      throw new ApiException(
        'resend_cooldown',
        'A code was sent to this number moments ago; wait before resending',
        {
          headers: { 'retry-after': String(retryAfter) },
          details: { retryAfterSeconds: retryAfter, resendAvailableAt: new Date(availableAt).toISOString() },
        },
      );
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
      // Outcomes only (invalid_code, expired, not_found, max_attempts_reached); not bad input.
      if (error instanceof ApiException && error.extra?.verified === false) {
        this.metrics.verifications.inc({ outcome: error.code });
      }
      throw error;
    }
  }

  private async check(request: VerifyRequest): Promise<VerifyResponse> {
    const phone = this.normalise(request.phone, request.defaultCountry);
    const purpose = request.purpose ?? DEFAULT_PURPOSE;
    const now = this.clock.now();
    const row = await this.repository.findNewest(phone, purpose);
    if (!row) {
      // Same work as a real comparison, so "no code" and "wrong code" cost alike.
      this.crypto.hasher.matches({ id: randomUUID(), phone, purpose }, request.code, '', '');
      throw verifyError('not_found', 'No pending code for this phone and purpose');
    }
    const matched = this.crypto.hasher.matches(row, request.code, row.codeHash, row.hashKeyId);
    this.rejectIfUnusable(row, now);
    const result = await this.repository.recordAttempt(row.id, matched, now);
    if (!result) {
      // Someone else changed the row between our read and our write: answer from its new state.
      const current = await this.repository.findById(row.id);
      if (current) this.rejectIfUnusable(current, now);
      throw verifyError('not_found', 'No pending code for this phone and purpose');
    }
    if (result.status === 'verified' && result.usedAt) {
      this.metrics.codeVerified({ provider: result.deliveryProvider, phone });
      this.logger.log({ codeId: row.id, phoneMasked: maskPhone(phone), purpose }, 'code verified');
      return { verified: true, id: row.id, verifiedAt: result.usedAt.toISOString() };
    }
    const attemptsRemaining = Math.max(0, result.maxAttempts - result.attempts);
    this.logger.log({ codeId: row.id, phoneMasked: maskPhone(phone), attemptsRemaining }, 'wrong code');
    // The guess that uses up the last attempt is still answered as what it was; the next one,
    // right or wrong, gets max_attempts_reached.
    throw verifyError('invalid_code', 'The code is not correct', { attemptsRemaining });
  }

  private rejectIfUnusable(row: CodeForVerify, now: Date): void {
    if (row.status === 'verified' || row.status === 'canceled') {
      throw verifyError('not_found', 'No pending code for this phone and purpose');
    }
    if (row.status === 'max_attempts_reached' || row.attempts >= row.maxAttempts) {
      throw verifyError('max_attempts_reached', 'Too many wrong codes; request a new one');
    }
    if (row.status === 'expired' || row.expiresAt.getTime() <= now.getTime()) {
      throw verifyError('expired', 'The code has expired; request a new one');
    }
  }
}

function verifyError(
  code: 'not_found' | 'expired' | 'invalid_code' | 'max_attempts_reached',
  message: string,
  extra: Record<string, unknown> = {},
): ApiException {
  // API.md: verify's not_found is a 400 (the route exists; the code does not).
  return new ApiException(code, message, {
    status: code === 'not_found' ? 400 : undefined,
    extra: { verified: false, ...extra },
  });
}
