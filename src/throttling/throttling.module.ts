import { Global, Module } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerModuleOptions, type ThrottlerOptions } from '@nestjs/throttler';
import { otpConfig, type OtpConfig, throttleConfig, type ThrottleConfig } from '../config/index.js';
import { TestNumbers } from './test-numbers.js';
import {
  HOUR_MS,
  ipTracker,
  phoneTracker,
  SEND_IP,
  SEND_PHONE,
  throttleKey,
  VERIFY_IP,
  VERIFY_PHONE,
} from './throttle-keys.js';
import { OtpThrottlerStorage } from './throttler-storage.js';

/** The named throttlers: per rolling hour, by phone (global across clients) and by client + IP. */
export function buildThrottlerOptions(
  config: ThrottleConfig,
  otp: OtpConfig,
  storage: OtpThrottlerStorage,
): ThrottlerModuleOptions {
  // Keyed hash of the tracker; the OTP secret is shared by every replica, so are the keys.
  const generateKey = (_ctx: unknown, tracker: string, name: string) =>
    throttleKey(config.redisPrefix, name, tracker, otp.hashSecrets[0]);
  const byPhone = (req: Record<string, unknown>) => phoneTracker(req, otp.defaultCountry);
  const byIp = (req: Record<string, unknown>) => ipTracker(req);
  const throttlers: ThrottlerOptions[] = [
    { name: SEND_PHONE, limit: config.sendPerPhoneHour, getTracker: byPhone },
    { name: SEND_IP, limit: config.sendPerIpHour, getTracker: byIp },
    { name: VERIFY_PHONE, limit: config.verifyPerPhoneHour, getTracker: byPhone },
    { name: VERIFY_IP, limit: config.verifyPerIpHour, getTracker: byIp },
  ].map((t) => ({ ...t, ttl: HOUR_MS, generateKey }));
  return { throttlers, storage, setHeaders: false };
}

/** Provides the throttler store on its own, so ThrottlerModule's options factory can use it. */
@Module({ providers: [OtpThrottlerStorage], exports: [OtpThrottlerStorage] })
class ThrottlerStoreModule {}

/**
 * Abuse controls: @nestjs/throttler with the named throttlers above over OtpThrottlerStorage
 * (memory, or Redis with REDIS_URL), the anti-pumping guard and test numbers. Routes opt in with
 * @ThrottleSend() / @ThrottleVerify(). Global so OtpService can read TestNumbers.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerStoreModule],
      inject: [throttleConfig.KEY, otpConfig.KEY, OtpThrottlerStorage],
      useFactory: buildThrottlerOptions,
    }),
  ],
  providers: [TestNumbers],
  exports: [TestNumbers],
})
export class ThrottlingModule {}
