import { applyDecorators, UseGuards } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { AntiPumpingGuard } from './anti-pumping.guard.js';
import { OtpThrottlerGuard } from './otp-throttler.guard.js';
import { SEND_IP, SEND_PHONE, VERIFY_IP, VERIFY_PHONE } from './throttle-keys.js';

/**
 * Send: per-phone and per-IP buckets, then the anti-pumping rules. Put it on the handler: the
 * controller's ApiKeyGuard runs first, so unauthenticated requests are 401 and never counted.
 */
export const ThrottleSend = () =>
  applyDecorators(
    SkipThrottle({ [VERIFY_PHONE]: true, [VERIFY_IP]: true }),
    UseGuards(OtpThrottlerGuard, AntiPumpingGuard),
  );

/** Verify: its own per-phone and per-IP buckets, so exhausting verify never blocks sending a new code. */
export const ThrottleVerify = () =>
  applyDecorators(SkipThrottle({ [SEND_PHONE]: true, [SEND_IP]: true }), UseGuards(OtpThrottlerGuard));
