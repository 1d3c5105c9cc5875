import { registerAs } from '@nestjs/config';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsISO31661Alpha2,
  IsOptional,
  IsUrl,
  Matches,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { normalisePhone } from '../common/index.js';
import { IntRange, ToBoolean, ToList } from './transforms.js';
import { ConfigValidationError, validateEnv } from './validate-env.js';

/** JSON text → value; text that does not parse is left as is so the validator names the variable. */
const ToJson = () =>
  Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  });

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{ "GH": 500, "NG": 100, "*": 50 }`: ISO 3166-1 alpha-2 (or `*` for every other country) → sends per hour. */
export function isCountryLimitMap(value: unknown): value is Record<string, number> {
  return (
    isPlainObject(value) &&
    Object.entries(value).every(
      ([k, v]) =>
        (k === '*' || /^[A-Za-z]{2}$/.test(k)) && typeof v === 'number' && Number.isInteger(v) && v >= 1,
    )
  );
}

/** `{ "+233240000001": "123456" }`: E.164 mobile numbers → fixed codes of 6-12 digits. */
export function isTestNumberMap(value: unknown): value is Record<string, string> {
  return (
    isPlainObject(value) &&
    Object.entries(value).every(
      ([k, v]) => normalisePhone(k)?.e164 === k && typeof v === 'string' && /^\d{6,12}$/.test(v),
    )
  );
}

const IsMap = (name: string, check: (v: unknown) => boolean, options: ValidationOptions) =>
  ValidateBy({ name, validator: { validate: check } }, options);

class ThrottleEnv {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  // 0 turns this one limit off.
  @IntRange(0, 1_000_000)
  THROTTLE_SEND_PER_PHONE_HOUR = 3;

  /** Who shares THROTTLE_SEND_PER_PHONE_HOUR: every client (`phone`) or each client alone (`client`). */
  @IsIn(['phone', 'client'], { message: 'THROTTLE_SEND_PER_PHONE_SCOPE must be phone or client' })
  THROTTLE_SEND_PER_PHONE_SCOPE: 'phone' | 'client' = 'phone';

  // 0 turns this one limit off.
  @IntRange(0, 1_000_000)
  THROTTLE_SEND_PER_IP_HOUR = 20;

  // 0 turns this one limit off.
  @IntRange(0, 1_000_000)
  THROTTLE_VERIFY_PER_PHONE_HOUR = 10;

  // 0 turns this one limit off.
  @IntRange(0, 1_000_000)
  THROTTLE_VERIFY_PER_IP_HOUR = 50;

  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['redis', 'rediss'] },
    { message: 'REDIS_URL must be a redis:// or rediss:// URL' },
  )
  REDIS_URL?: string;

  /** Prefix of every throttler key in Redis (lets several deployments, or test runs, share one Redis). */
  @Matches(/^[A-Za-z0-9:_.-]{1,64}$/, {
    message: 'THROTTLE_REDIS_PREFIX must be 1-64 letters, digits or : _ . -',
  })
  THROTTLE_REDIS_PREFIX = 'otp:throttle:';

  @ToList()
  @IsISO31661Alpha2({
    each: true,
    message: 'OTP_ALLOWED_COUNTRIES must be a comma-separated list of ISO 3166-1 alpha-2 codes',
  })
  OTP_ALLOWED_COUNTRIES: string[] = [];

  @ToJson()
  @IsMap('isCountryLimitMap', isCountryLimitMap, {
    message:
      'OTP_COUNTRY_HOURLY_LIMIT must be a JSON object of ISO 3166-1 alpha-2 codes (or "*") to positive integers',
  })
  OTP_COUNTRY_HOURLY_LIMIT: Record<string, number> = {};

  // 0 turns the fuse off.
  @IntRange(0, 1_000_000)
  OTP_GLOBAL_SENDS_PER_MINUTE = 600;

  @ToJson()
  @IsMap('isTestNumberMap', isTestNumberMap, {
    message: 'OTP_TEST_NUMBERS must be a JSON object of E.164 mobile numbers to fixed codes of 6-12 digits',
  })
  OTP_TEST_NUMBERS: Record<string, string> = {};

  @ToBoolean()
  @IsBoolean({ message: 'OTP_TEST_NUMBERS_ENABLED must be true or false' })
  OTP_TEST_NUMBERS_ENABLED = false;

  @ToBoolean()
  @IsBoolean({ message: 'OTP_TEST_NUMBERS_ALLOW_IN_PRODUCTION must be true or false' })
  OTP_TEST_NUMBERS_ALLOW_IN_PRODUCTION = false;
}

export const throttleConfig = registerAs('throttle', () => {
  const env = validateEnv(ThrottleEnv);
  // A fixed code in production is a backdoor unless someone decided it on purpose (app-store review).
  if (
    env.NODE_ENV === 'production' &&
    env.OTP_TEST_NUMBERS_ENABLED &&
    !env.OTP_TEST_NUMBERS_ALLOW_IN_PRODUCTION
  ) {
    throw new ConfigValidationError(
      'Invalid configuration: OTP_TEST_NUMBERS_ENABLED=true is refused with NODE_ENV=production unless OTP_TEST_NUMBERS_ALLOW_IN_PRODUCTION=true',
    );
  }
  const countryLimits = Object.fromEntries(
    Object.entries(env.OTP_COUNTRY_HOURLY_LIMIT).map(([k, v]) => [k.toUpperCase(), v]),
  );
  return {
    sendPerPhoneHour: env.THROTTLE_SEND_PER_PHONE_HOUR,
    sendPerPhoneScope: env.THROTTLE_SEND_PER_PHONE_SCOPE,
    sendPerIpHour: env.THROTTLE_SEND_PER_IP_HOUR,
    verifyPerPhoneHour: env.THROTTLE_VERIFY_PER_PHONE_HOUR,
    verifyPerIpHour: env.THROTTLE_VERIFY_PER_IP_HOUR,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.THROTTLE_REDIS_PREFIX,
    allowedCountries: env.OTP_ALLOWED_COUNTRIES.map((c) => c.toUpperCase()),
    countryHourlyLimits: countryLimits,
    globalSendsPerMinute: env.OTP_GLOBAL_SENDS_PER_MINUTE,
    testNumbersEnabled: env.OTP_TEST_NUMBERS_ENABLED,
    testNumbers: env.OTP_TEST_NUMBERS_ENABLED ? env.OTP_TEST_NUMBERS : {},
  };
});
export type ThrottleConfig = ReturnType<typeof throttleConfig>;
