import { Module } from '@nestjs/common';
import { CodesModule } from '../codes/index.js';
import { RequestLimits } from './request-limits.service.js';
import { OtpThrottlerStorage } from './throttler-storage.js';

/**
 * Abuse controls kept outside the database: RequestLimits (per-IP limits, country allow-list and
 * cap, global fuse) over OtpThrottlerStorage (memory, or Redis with REDIS_URL); test numbers are
 * exempt (TestNumbers, from codes/). Per-phone limits and the consecutive-failure lockout are
 * counted by PostgreSQL in the otp module's statements. Imported by OtpModule, whose controller
 * applies them.
 */
@Module({
  imports: [CodesModule],
  providers: [OtpThrottlerStorage, RequestLimits],
  exports: [RequestLimits],
})
export class ThrottlingModule {}
