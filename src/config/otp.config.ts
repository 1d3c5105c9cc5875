import { registerAs } from '@nestjs/config';
import { IsISO31661Alpha2, IsOptional, Matches, Max } from 'class-validator';
import { IntRange } from './transforms.js';
import { validateEnv } from './validate-env.js';

class OtpEnv {
  /** `new` or `new,old[,older]` during a rotation; each key at least 32 bytes. */
  @Matches(/^\s*[^,\s]{32,}\s*(,\s*[^,\s]{32,}\s*)*$/, {
    message: 'OTP_HASH_SECRET must be one or more comma-separated secrets of at least 32 characters',
  })
  OTP_HASH_SECRET!: string;

  @IntRange(30)
  // OWASP ASVS 2.7.2 / 6.5.5 and NIST 800-63B 5.1.3.2: out-of-band codes live at most 10 minutes.
  @Max(600, { message: 'OTP_TTL_SECONDS must be at most 600 (OWASP ASVS: codes live at most 10 minutes)' })
  OTP_TTL_SECONDS = 300;

  // 6 digits is the smallest length with at least 20 bits of entropy (ASVS 2.7.6).
  @IntRange(6, 10)
  OTP_LENGTH = 6;

  @IntRange(1, 10)
  OTP_MAX_ATTEMPTS = 5;

  @IntRange(0, 3600)
  OTP_RESEND_COOLDOWN_SECONDS = 60;

  @IsOptional()
  @IsISO31661Alpha2({ message: 'OTP_DEFAULT_COUNTRY must be an ISO 3166-1 alpha-2 country code' })
  OTP_DEFAULT_COUNTRY?: string;

  @IntRange(1, 8760)
  OTP_RETENTION_HOURS = 24;

  // NIST SP 800-63B 5.2.2: at most 100 consecutive failed attempts on one account.
  @IntRange(1, 100)
  OTP_MAX_CONSECUTIVE_FAILURES = 20;

  // How long a (client, phone) stays locked after the cap; each further failure re-arms it.
  @IntRange(60, 31_536_000)
  OTP_LOCKOUT_SECONDS = 86_400;
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
    maxConsecutiveFailures: env.OTP_MAX_CONSECUTIVE_FAILURES,
    lockoutSeconds: env.OTP_LOCKOUT_SECONDS,
  };
});
export type OtpConfig = ReturnType<typeof otpConfig>;
