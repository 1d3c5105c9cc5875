import { generatedSecret, productionEnv, spawnService, waitForHttp, freePort } from './helpers/process.js';

/*
 * NODE_ENV=production refuses unsafe configuration (shared/docs API.md A4, Decision 6): the
 * production build (what the image runs) is started once per rule and must stop with exit code 1
 * and exactly one line naming the variable, never its value. Published values are those of
 * .env.example, docker-compose.yml and deploy/, built into the bundle as digests.
 */
const SINCH = {
  OTP_PROVIDERS: 'sinch',
  SINCH_PROJECT_ID: 'project',
  SINCH_APP_ID: 'app',
  SINCH_KEY_ID: 'key-id',
  SINCH_KEY_SECRET: generatedSecret(),
  SINCH_TEMPLATE_ID: 'otp_template',
  SINCH_WEBHOOK_SECRET: generatedSecret(),
};

describe('production refuses unsafe configuration at start-up', () => {
  it.each([
    [
      "the README's and .env.example's client key",
      { CLIENT_API_KEYS: 'local-dev:change-me-local-dev-key-0001' },
      'CLIENT_API_KEYS (client local-dev) holds a value published in this repository',
    ],
    [
      'a published key under another client name',
      { CLIENT_API_KEYS: `acme:${generatedSecret()},prod:CHANGE-ME-at-least-16-chars` },
      'CLIENT_API_KEYS (client prod) holds a value published in this repository',
    ],
    [
      "docker-compose's former OTP_HASH_SECRET fallback",
      { OTP_HASH_SECRET: 'change-me-to-a-long-random-secret-of-32-chars-or-more' },
      'OTP_HASH_SECRET holds a value published in this repository',
    ],
    [
      'deploy/kubernetes/secret.example.yaml verbatim',
      { OTP_HASH_SECRET: 'CHANGE-ME-to-a-long-random-secret-of-32-chars-or-more' },
      'OTP_HASH_SECRET holds a value published in this repository',
    ],
    [
      'a published provider credential',
      { WHATSAPP_OTP_API_KEY: 'CHANGE-ME' },
      'WHATSAPP_OTP_API_KEY holds a value published in this repository',
    ],
    [
      'OTP_HASH_SECRET of 32 × a',
      { OTP_HASH_SECRET: 'a'.repeat(32) },
      'OTP_HASH_SECRET must have at least 10 distinct characters in production',
    ],
    [
      'OTP_HASH_SECRET under 32 bytes (the rotation entry)',
      { OTP_HASH_SECRET: `${generatedSecret()},0123456789abcdefghijklmnopqrstu` },
      'OTP_HASH_SECRET must be one or more comma-separated secrets of at least 32 characters',
    ],
    [
      'a low-entropy rotation entry',
      { OTP_HASH_SECRET: `${generatedSecret()},${'ab'.repeat(20)}` },
      'OTP_HASH_SECRET (entry 2) must have at least 10 distinct characters in production',
    ],
    [
      'a client key under 24 characters',
      { CLIENT_API_KEYS: `acme:${'x1y2z3'.repeat(3)}abcde` },
      'CLIENT_API_KEYS (client acme) must be at least 24 characters in production',
    ],
    [
      'a 1-character webhook secret',
      { ...SINCH, SINCH_WEBHOOK_SECRET: 'x' },
      'SINCH_WEBHOOK_SECRET must be at least 16 characters in production',
    ],
    [
      'sinch in the chain without its webhook secret',
      { ...SINCH, SINCH_WEBHOOK_SECRET: undefined },
      'SINCH_WEBHOOK_SECRET is required in production when OTP_PROVIDERS includes sinch',
    ],
    [
      'enosend in the chain without its webhook secret',
      { OTP_PROVIDERS: 'dnz,enosend', ENOSEND_INSTANCE_ID: 'instance', ENOSEND_API_KEY: generatedSecret() },
      'ENOSEND_WEBHOOK_SECRET is required in production when OTP_PROVIDERS includes enosend',
    ],
    [
      'a short METRICS_TOKEN',
      { METRICS_TOKEN: 'metrics' },
      'METRICS_TOKEN must be at least 24 characters in production',
    ],
  ])('refuses %s: one line naming the variable', async (_name, override, line) => {
    const env: Record<string, string | undefined> = { ...productionEnv(), ...override };
    const svc = spawnService(env);
    expect(await svc.exited).toBe(1);
    expect(svc.stderr).toHaveLength(1);
    expect(svc.stderr[0]).toMatch(/^Invalid configuration: /);
    expect(svc.stderr[0]).toContain(line);
    for (const value of Object.values(override))
      if (value && value.length > 8) expect(svc.stderr[0]).not.toContain(value);
    expect(svc.stdout.join('\n')).not.toContain('Nest application successfully started');
  });

  it('starts with generated secrets (and the same rules do not apply outside production)', async () => {
    const port = await freePort();
    const svc = spawnService({ ...productionEnv(), LOG_LEVEL: 'warn' }, port);
    await waitForHttp(`${svc.url}/health/live`);
    expect((await fetch(`${svc.url}/health/live`)).status).toBe(200);
    svc.child.kill('SIGTERM');
    await svc.exited;
    const dev = spawnService({ NODE_ENV: 'development', OTP_HASH_SECRET: 'a'.repeat(32) }, await freePort());
    await waitForHttp(`${dev.url}/health/live`);
    dev.child.kill('SIGTERM');
    await dev.exited;
  });
});
