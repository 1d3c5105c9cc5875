import { Inject, Injectable } from '@nestjs/common';
import { throttleConfig, type ThrottleConfig } from '../config/index.js';

/**
 * Delivery-job payload (`c`) of a code issued to a test number, in place of the encrypted code. The
 * job then holds no code at all: a worker that knows this marker completes the job without calling
 * a provider; one that does not cannot decrypt it, so it can never send anything either.
 */
export const TEST_NUMBER_JOB_PAYLOAD = 'test-number';

/**
 * OTP_TEST_NUMBERS (E.164 → fixed code) for app-store reviewers and QA. Empty unless
 * OTP_TEST_NUMBERS_ENABLED=true (and refused in production without a second flag; see throttle.config).
 */
@Injectable()
export class TestNumbers {
  private readonly codes: ReadonlyMap<string, string>;

  constructor(@Inject(throttleConfig.KEY) config: ThrottleConfig) {
    this.codes = new Map(config.testNumbersEnabled ? Object.entries(config.testNumbers) : []);
  }

  /** The fixed code of an E.164 test number, or undefined (also when test numbers are disabled). */
  codeFor(e164: string): string | undefined {
    return this.codes.get(e164);
  }
}
