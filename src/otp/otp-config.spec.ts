import { otpConfig, ConfigValidationError } from '../config/index.js';

const SECRET = 'a-secret-of-at-least-32-characters-0001';

function load(env: Record<string, string>) {
  const saved = process.env;
  process.env = { NODE_ENV: 'test', OTP_HASH_SECRET: SECRET, ...env };
  try {
    return otpConfig();
  } finally {
    process.env = saved;
  }
}

describe('otp configuration: the consecutive-failure lockout (API.md A2)', () => {
  it('defaults to 20 failures and a 24 h lockout', () => {
    expect(load({})).toMatchObject({ maxConsecutiveFailures: 20, lockoutSeconds: 86_400 });
  });

  it('accepts up to 100 failures (NIST SP 800-63B 5.2.2)', () => {
    expect(load({ OTP_MAX_CONSECUTIVE_FAILURES: '100' }).maxConsecutiveFailures).toBe(100);
  });

  it.each([
    [{ OTP_MAX_CONSECUTIVE_FAILURES: '101' }, 'OTP_MAX_CONSECUTIVE_FAILURES'],
    [{ OTP_MAX_CONSECUTIVE_FAILURES: '0' }, 'OTP_MAX_CONSECUTIVE_FAILURES'],
    [{ OTP_LOCKOUT_SECONDS: '10' }, 'OTP_LOCKOUT_SECONDS'],
    [{ OTP_LOCKOUT_SECONDS: 'a day' }, 'OTP_LOCKOUT_SECONDS'],
  ])('%o is refused, naming the variable', (env, name) => {
    expect(() => load(env)).toThrow(ConfigValidationError);
    expect(() => load(env)).toThrow(name);
  });
});
