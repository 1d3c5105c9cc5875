import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as script from '../../scripts/published-values.mjs';
import { CALLBACK_SECRETS, MIN_STEM_LENGTH, productionConfigProblem, stemOf } from './production-safety.js';

const secret = () => randomBytes(33).toString('base64url');

/** A production environment whose every secret is freshly generated: safe. */
function safeEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    CLIENT_API_KEYS: `checkout:${secret()},signup:${secret()}`,
    OTP_HASH_SECRET: secret(),
    OTP_PROVIDERS: 'sinch,enosend,dnz',
    SINCH_WEBHOOK_SECRET: secret(),
    ENOSEND_WEBHOOK_SECRET: secret(),
  };
}

describe('published values (built into the service from .env.example, docker-compose.yml, deploy/)', () => {
  it(`${'src/config/published-values.generated.ts'} is current (run node scripts/published-values.mjs)`, () => {
    const committed = readFileSync(join(process.cwd(), script.OUTPUT), 'utf8');
    expect(committed).toBe(script.generated());
  });
});

describe('productionConfigProblem', () => {
  it('accepts generated secrets', () => {
    expect(productionConfigProblem(safeEnv())).toBeUndefined();
  });

  it.each([
    [
      '.env.example key',
      { CLIENT_API_KEYS: 'local-dev:change-me-local-dev-key-0001' },
      'CLIENT_API_KEYS (client local-dev) holds a value published',
    ],
    [
      '.env.example key under another name',
      { CLIENT_API_KEYS: `a:${secret()},prod:change-me-local-dev-key-0001` },
      'CLIENT_API_KEYS (client prod) holds a value published',
    ],
    [
      'compose fallback hash secret',
      { OTP_HASH_SECRET: 'change-me-to-a-long-random-secret-of-32-chars-or-more' },
      'OTP_HASH_SECRET holds a value published',
    ],
    [
      'secret template',
      { OTP_HASH_SECRET: 'CHANGE-ME-to-a-long-random-secret-of-32-chars-or-more' },
      'OTP_HASH_SECRET holds a value published',
    ],
    [
      'published webhook secret',
      { SINCH_WEBHOOK_SECRET: 'CHANGE-ME' },
      'SINCH_WEBHOOK_SECRET holds a value published',
    ],
    [
      'rotation entry',
      { OTP_HASH_SECRET: `${secret()},change-me-to-a-long-random-secret-of-32-chars-or-more` },
      'OTP_HASH_SECRET (entry 2) holds a value published',
    ],
    // Variants of published values (review finding): another suffix, case or punctuation.
    [
      'the README key with another number',
      { CLIENT_API_KEYS: 'prod:change-me-local-dev-key-0002' },
      'CLIENT_API_KEYS (client prod) holds a value published',
    ],
    [
      'the Secret template key with a suffix',
      { CLIENT_API_KEYS: 'prod:CHANGE-ME-at-least-16-chars-2' },
      'CLIENT_API_KEYS (client prod) holds a value published',
    ],
    [
      'the compose hash secret in upper case with a "!"',
      { OTP_HASH_SECRET: 'CHANGE-ME-TO-A-LONG-RANDOM-SECRET-OF-32-CHARS-OR-MORE!' },
      'OTP_HASH_SECRET holds a value published',
    ],
    [
      'a placeholder inside an otherwise long secret',
      { METRICS_TOKEN: `${secret()}-changeme` },
      'METRICS_TOKEN holds a value published',
    ],
  ])('refuses a published value (%s)', (_name, override, line) => {
    expect(productionConfigProblem({ ...safeEnv(), ...override })).toContain(line);
  });

  it.each([
    [{ OTP_HASH_SECRET: 'a'.repeat(64) }, 'OTP_HASH_SECRET must have at least 10 distinct characters'],
    [{ OTP_HASH_SECRET: 'abcdefghijklmnopqrstuvwxyz01234' }, 'OTP_HASH_SECRET must be at least 32 bytes'],
    [
      { CLIENT_API_KEYS: `checkout:${'k1'.repeat(11)}x` },
      'CLIENT_API_KEYS (client checkout) must be at least 24 characters',
    ],
    [{ ENOSEND_WEBHOOK_SECRET: 'x' }, 'ENOSEND_WEBHOOK_SECRET must be at least 16 characters'],
    [
      { SINCH_WEBHOOK_SECRET: undefined },
      'SINCH_WEBHOOK_SECRET is required in production when OTP_PROVIDERS includes sinch',
    ],
    [
      { OTP_PROVIDERS: 'meta', META_APP_SECRET: secret() },
      'META_WEBHOOK_VERIFY_TOKEN is required in production when OTP_PROVIDERS includes meta',
    ],
  ])('refuses %j', (override, line) => {
    expect(productionConfigProblem({ ...safeEnv(), ...override })).toContain(line);
  });

  it('never puts the value in the line', () => {
    const line = productionConfigProblem({ ...safeEnv(), CLIENT_API_KEYS: 'x:short-key-0123456789' });
    expect(line).toContain('CLIENT_API_KEYS (client x)');
    expect(line).not.toContain('short-key');
  });

  it('knows the callback secrets of every provider that sends callbacks', () => {
    expect(CALLBACK_SECRETS).toEqual({
      sinch: ['SINCH_WEBHOOK_SECRET'],
      enosend: ['ENOSEND_WEBHOOK_SECRET'],
      meta: ['META_APP_SECRET', 'META_WEBHOOK_VERIFY_TOKEN'],
    });
  });
});

describe('stems of published values', () => {
  it('are computed alike by the build script and the service', () => {
    for (const v of ['change-me-local-dev-key-0001', 'CHANGE-ME-at-least-16-chars-2', 'Abc!!', 'x9y8', '']) {
      expect(stemOf(v)).toBe(script.stemOf(v));
    }
    expect(MIN_STEM_LENGTH).toBe(script.MIN_STEM_LENGTH);
  });
});
