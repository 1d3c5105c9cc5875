import { ConfigValidationError, throttleConfig } from '../config/index.js';
import { TestNumbers } from '../codes/index.js';

const TEST_PHONE = '+233240000001';

function load(env: Record<string, string>) {
  const saved = process.env;
  process.env = { NODE_ENV: 'test', ...env };
  try {
    return throttleConfig();
  } finally {
    process.env = saved;
  }
}

describe('throttle configuration', () => {
  it('has the documented defaults', () => {
    expect(load({})).toEqual({
      sendPerPhoneHour: 3,
      sendPerPhoneScope: 'phone',
      sendPerIpHour: 20,
      verifyPerPhoneHour: 10,
      verifyPerIpHour: 50,
      redisUrl: undefined,
      redisPrefix: 'otp:throttle:',
      allowedCountries: [],
      countryHourlyLimits: {},
      globalSendsPerMinute: 600,
      testNumbersEnabled: false,
      testNumbers: {},
    });
  });

  it('parses lists and maps; 0 turns a limit off', () => {
    const sut = load({
      THROTTLE_SEND_PER_IP_HOUR: '0',
      OTP_ALLOWED_COUNTRIES: 'gh, NG',
      OTP_COUNTRY_HOURLY_LIMIT: '{"gh":100,"*":5}',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
    });
    expect(sut).toMatchObject({
      sendPerIpHour: 0,
      allowedCountries: ['GH', 'NG'],
      countryHourlyLimits: { GH: 100, '*': 5 },
      redisUrl: 'redis://127.0.0.1:6379/0',
    });
  });

  it.each([
    [{ THROTTLE_SEND_PER_PHONE_HOUR: 'three' }, 'THROTTLE_SEND_PER_PHONE_HOUR'],
    [{ THROTTLE_VERIFY_PER_IP_HOUR: '-1' }, 'THROTTLE_VERIFY_PER_IP_HOUR'],
    [{ THROTTLE_SEND_PER_PHONE_SCOPE: 'tenant' }, 'THROTTLE_SEND_PER_PHONE_SCOPE'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ OTP_ALLOWED_COUNTRIES: 'GH,XX' }, 'OTP_ALLOWED_COUNTRIES'],
    [{ OTP_COUNTRY_HOURLY_LIMIT: '{"GH":' }, 'OTP_COUNTRY_HOURLY_LIMIT'],
    [{ OTP_COUNTRY_HOURLY_LIMIT: '{"Ghana":10}' }, 'OTP_COUNTRY_HOURLY_LIMIT'],
    [{ OTP_COUNTRY_HOURLY_LIMIT: '{"GH":0}' }, 'OTP_COUNTRY_HOURLY_LIMIT'],
    [{ OTP_COUNTRY_HOURLY_LIMIT: '[1]' }, 'OTP_COUNTRY_HOURLY_LIMIT'],
    [{ OTP_GLOBAL_SENDS_PER_MINUTE: '1.5' }, 'OTP_GLOBAL_SENDS_PER_MINUTE'],
    [{ OTP_TEST_NUMBERS: `{"${TEST_PHONE}":"123"}` }, 'OTP_TEST_NUMBERS'],
    [{ OTP_TEST_NUMBERS: '{"0240000001":"123456"}' }, 'OTP_TEST_NUMBERS'],
    [{ OTP_TEST_NUMBERS: `{"${TEST_PHONE}":123456}` }, 'OTP_TEST_NUMBERS'],
    [{ OTP_TEST_NUMBERS_ENABLED: 'maybe' }, 'OTP_TEST_NUMBERS_ENABLED'],
  ])('%o is refused, naming the variable', (env, name) => {
    expect(() => load(env)).toThrow(ConfigValidationError);
    expect(() => load(env)).toThrow(name);
  });

  describe('test numbers', () => {
    const numbers = JSON.stringify({ [TEST_PHONE]: '246810' });

    it('are ignored unless enabled', () => {
      const sut = new TestNumbers(load({ OTP_TEST_NUMBERS: numbers }));
      expect(sut.codeFor(TEST_PHONE)).toBeUndefined();
    });

    it('give their fixed code when enabled', () => {
      const sut = new TestNumbers(load({ OTP_TEST_NUMBERS: numbers, OTP_TEST_NUMBERS_ENABLED: 'true' }));
      expect(sut.codeFor(TEST_PHONE)).toBe('246810');
      expect(sut.codeFor('+233240000002')).toBeUndefined();
    });

    it('stop the start in production without the second flag', () => {
      const env = { NODE_ENV: 'production', OTP_TEST_NUMBERS: numbers, OTP_TEST_NUMBERS_ENABLED: 'true' };
      expect(() => load(env)).toThrow(ConfigValidationError);
      expect(() => load(env)).toThrow(/OTP_TEST_NUMBERS_ALLOW_IN_PRODUCTION/);
      expect(load({ ...env, OTP_TEST_NUMBERS_ALLOW_IN_PRODUCTION: 'true' }).testNumbers).toEqual({
        [TEST_PHONE]: '246810',
      });
      // Listed but disabled is fine in production.
      expect(load({ ...env, OTP_TEST_NUMBERS_ENABLED: 'false' }).testNumbersEnabled).toBe(false);
    });
  });
});
