import { deliveryConfig } from './delivery.config.js';

describe('deliveryConfig', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const load = (env: Record<string, string | undefined>) => {
    process.env = { ...saved, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
    return deliveryConfig();
  };

  it('defaults: a 15 s lock timeout (dead workers released within ~20 s) and a 10 s rate-limit wait, no fault hook', () => {
    const sut = load({
      NODE_ENV: 'test',
      DELIVERY_LOCK_TIMEOUT_SECONDS: undefined,
      DELIVERY_RATE_LIMIT_WAIT_SECONDS: undefined,
      DELIVERY_TEST_FAULT_HOOK_URL: undefined,
    });
    expect(sut).toMatchObject({
      lockTimeoutSeconds: 15,
      rateLimitWaitMs: 10_000,
      testFaultHookUrl: undefined,
    });
  });

  it('accepts the test fault hook outside production and refuses it in production', () => {
    const url = 'http://127.0.0.1:4000/fault';
    expect(load({ NODE_ENV: 'test', DELIVERY_TEST_FAULT_HOOK_URL: url }).testFaultHookUrl).toBe(url);
    expect(() => load({ NODE_ENV: 'production', DELIVERY_TEST_FAULT_HOOK_URL: url })).toThrow(
      'Invalid configuration: DELIVERY_TEST_FAULT_HOOK_URL is a test hook and is refused when NODE_ENV=production',
    );
  });
});
