import { registerAs } from '@nestjs/config';
import { IsISO31661Alpha2, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ToInt } from './transforms.js';
import { validateEnv } from './validate-env.js';

class OtpEnv {
  /** `new` or `new,old[,older]` during a rotation; each key at least 32 bytes. */
  @Matches(/^\s*[^,\s]{32,}\s*(,\s*[^,\s]{32,}\s*)*$/, {
    message: 'OTP_HASH_SECRET must be one or more comma-separated secrets of at least 32 characters',
  })
  OTP_HASH_SECRET!: string;

  @ToInt()
  @IsInt({ message: 'OTP_TTL_SECONDS must be an integer' })
  @Min(30, { message: 'OTP_TTL_SECONDS must be at least 30' })
  // OWASP ASVS 2.7.2 / 6.5.5 and NIST 800-63B 5.1.3.2: out-of-band codes live at most 10 minutes.
  @Max(600, { message: 'OTP_TTL_SECONDS must be at most 600 (OWASP ASVS: codes live at most 10 minutes)' })
  OTP_TTL_SECONDS = 300;

  @ToInt()
  @IsInt({ message: 'OTP_LENGTH must be an integer' })
  // 6 digits is the smallest length with at least 20 bits of entropy (ASVS 2.7.6).
  @Min(6, { message: 'OTP_LENGTH must be between 6 and 10' })
  @Max(10, { message: 'OTP_LENGTH must be between 6 and 10' })
  OTP_LENGTH = 6;

  @ToInt()
  @IsInt({ message: 'OTP_MAX_ATTEMPTS must be an integer' })
  @Min(1, { message: 'OTP_MAX_ATTEMPTS must be between 1 and 10' })
  @Max(10, { message: 'OTP_MAX_ATTEMPTS must be between 1 and 10' })
  OTP_MAX_ATTEMPTS = 5;

  @ToInt()
  @IsInt({ message: 'OTP_RESEND_COOLDOWN_SECONDS must be an integer' })
  @Min(0, { message: 'OTP_RESEND_COOLDOWN_SECONDS must be between 0 and 3600' })
  @Max(3600, { message: 'OTP_RESEND_COOLDOWN_SECONDS must be between 0 and 3600' })
  OTP_RESEND_COOLDOWN_SECONDS = 60;

  @IsOptional()
  @IsISO31661Alpha2({ message: 'OTP_DEFAULT_COUNTRY must be an ISO 3166-1 alpha-2 country code' })
  OTP_DEFAULT_COUNTRY?: string;

  @ToInt()
  @IsInt({ message: 'OTP_RETENTION_HOURS must be an integer' })
  @Min(1, { message: 'OTP_RETENTION_HOURS must be between 1 and 8760' })
  @Max(8760, { message: 'OTP_RETENTION_HOURS must be between 1 and 8760' })
  OTP_RETENTION_HOURS = 24;
}

export const otpConfig = registerAs('otp', () => {
  const env = validateEnv(OtpEnv);
  return {
    hashSecrets: env.OTP_HASH_SECRET.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ttlSeconds: env.OTP_TTL_SECONDS,
    length: env.OTP_LENGTH,
    maxAttempts: env.OTP_MAX_ATTEMPTS,
    resendCooldownSeconds: env.OTP_RESEND_COOLDOWN_SECONDS,
    defaultCountry: env.OTP_DEFAULT_COUNTRY?.toUpperCase(),
    retentionHours: env.OTP_RETENTION_HOURS,
  };
});
export type OtpConfig = ReturnType<typeof otpConfig>;
