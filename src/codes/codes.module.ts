import { Module } from '@nestjs/common';
import { OneTimeCodesRepository } from './one-time-codes.repository.js';
import { OtpCrypto } from './otp.crypto.js';
import { TestNumbers } from './test-numbers.js';

/**
 * The code itself, shared by whoever issues, throttles or delivers it: the keyed hasher and the
 * payload cipher (OtpCrypto), the test numbers, and the owner of the one_time_codes table
 * (OneTimeCodesRepository: delivery status, retention). Imported by the modules that need them (otp,
 * throttling, delivery); not global.
 */
@Module({
  providers: [OtpCrypto, TestNumbers, OneTimeCodesRepository],
  exports: [OtpCrypto, TestNumbers, OneTimeCodesRepository],
})
export class CodesModule {}
