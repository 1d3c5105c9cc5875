import { SEND_PHONE, VERIFY_IP, VERIFY_PHONE } from './throttle-keys.js';
import { OtpThrottlerStorage, ThrottleStoreUnavailableError } from './throttler-storage.js';

describe('OtpThrottlerStorage', () => {
  it('without REDIS_URL counts in memory and trips after the limit', async () => {
    const sut = new OtpThrottlerStorage({ redisUrl: undefined });
    await sut.onModuleInit();
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push(await sut.increment('k', 60_000, 3, 60_000, SEND_PHONE));
    expect(hits.map((h) => h.isBlocked)).toEqual([false, false, false, true]);
    expect(hits[3].timeToBlockExpire).toBeGreaterThan(55);
    expect(sut.redis).toBeUndefined();
    sut.onApplicationShutdown();
  });

  describe('with Redis down', () => {
    let sut: OtpThrottlerStorage;
    beforeAll(async () => {
      sut = new OtpThrottlerStorage({ redisUrl: 'redis://127.0.0.1:6390' });
      await sut.onModuleInit();
    });
    afterAll(() => sut.onApplicationShutdown());

    it('boots without throwing', () => {
      expect(sut.redis?.status).not.toBe('ready');
    });

    it('send throttlers fail closed, fast', async () => {
      const started = Date.now();
      await expect(sut.increment('k', 60_000, 3, 60_000, SEND_PHONE)).rejects.toBeInstanceOf(
        ThrottleStoreUnavailableError,
      );
      await expect(sut.increment('k', 60_000, 3, 60_000, 'global-cap')).rejects.toBeInstanceOf(
        ThrottleStoreUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it.each([VERIFY_PHONE, VERIFY_IP])('%s falls back to per-instance memory limits', async (name) => {
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await sut.increment(`v-${name}`, 60_000, 2, 60_000, name));
      expect(results.map((r) => r.isBlocked)).toEqual([false, false, true]);
    });
  });

  it('shutdown closes the Redis connection and stops reconnecting', async () => {
    const sut = new OtpThrottlerStorage({ redisUrl: 'redis://127.0.0.1:6390' });
    await sut.onModuleInit();
    sut.onApplicationShutdown();
    let reconnects = 0;
    sut.redis?.on('reconnecting', () => reconnects++);
    await new Promise((r) => setTimeout(r, 600));
    expect(reconnects).toBe(0);
  });
});
