import { Module } from '@nestjs/common';
import { OtpCrypto } from './otp.crypto.js';
import { TestNumbers } from './test-numbers.js';

/**
 * The code itself, shared by whoever issues, throttles or delivers it: the keyed hasher and the
 * payload cipher (OtpCrypto) and the test numbers. Imported by the modules that need them (otp,
 * throttling, delivery); not global.
 */
@Module({
  providers: [OtpCrypto, TestNumbers],
  exports: [OtpCrypto, TestNumbers],
})
export class CodesModule {}
