import { Module } from '@nestjs/common';
import { CodesModule } from '../codes/index.js';
import { ThrottlingModule } from '../throttling/index.js';
import { IdempotencyService } from './idempotency.service.js';
import { OtpStatusService } from './otp-status.service.js';
import { OtpController } from './otp.controller.js';
import { OtpRepository } from './otp.repository.js';
import { OtpRetention } from './otp.retention.js';
import { OtpService } from './otp.service.js';
import { PrismaOtpRepository } from './prisma-otp.repository.js';

@Module({
  imports: [CodesModule, ThrottlingModule],
  controllers: [OtpController],
  providers: [
    OtpService,
    OtpStatusService,
    IdempotencyService,
    OtpRetention,
    { provide: OtpRepository, useClass: PrismaOtpRepository },
  ],
  exports: [OtpService],
})
export class OtpModule {}
