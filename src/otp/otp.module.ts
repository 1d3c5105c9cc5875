import { Module } from '@nestjs/common';
import { IdempotencyService } from './idempotency.service.js';
import { OneTimeCodesRepository } from './one-time-codes.repository.js';
import { OtpStatusService } from './otp-status.service.js';
import { OtpController } from './otp.controller.js';
import { OtpCrypto } from './otp.crypto.js';
import { OtpRepository } from './otp.repository.js';
import { OtpRetention } from './otp.retention.js';
import { OtpService } from './otp.service.js';
import { PrismaOtpRepository } from './prisma-otp.repository.js';

@Module({
  controllers: [OtpController],
  providers: [
    OtpService,
    OtpStatusService,
    OtpCrypto,
    IdempotencyService,
    OneTimeCodesRepository,
    OtpRetention,
    { provide: OtpRepository, useClass: PrismaOtpRepository },
  ],
  exports: [OtpService, OtpCrypto, OneTimeCodesRepository],
})
export class OtpModule {}
