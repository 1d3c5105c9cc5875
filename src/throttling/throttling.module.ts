import { Global, Module } from '@nestjs/common';
import { RequestLimits } from './request-limits.service.js';
import { TestNumbers } from './test-numbers.js';
import { OtpThrottlerStorage } from './throttler-storage.js';

/**
 * Abuse controls kept outside the database: RequestLimits (per-IP limits, country allow-list and
 * cap, global fuse) over OtpThrottlerStorage (memory, or Redis with REDIS_URL), and test numbers.
 * Per-phone limits and the consecutive-failure lockout are counted by PostgreSQL in the otp
 * module's statements. Global so OtpService and the handlers can use them.
 */
@Global()
@Module({
  providers: [OtpThrottlerStorage, RequestLimits, TestNumbers],
  exports: [RequestLimits, TestNumbers],
})
export class ThrottlingModule {}
