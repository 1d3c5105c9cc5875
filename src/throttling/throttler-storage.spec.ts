import { REDIS_AVAILABLE } from '../../test/helpers/redis-throttle.js';
import { SEND_IP, VERIFY_IP } from './throttle-keys.js';
import { OtpThrottlerStorage, ThrottleStoreUnavailableError } from './throttler-storage.js';

describe('OtpThrottlerStorage', () => {
  it('without REDIS_URL counts in memory and refuses after the limit', async () => {
    const sut = new OtpThrottlerStorage({ redisUrl: undefined });
    await sut.onModuleInit();
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push(await sut.hit('k', 60_000, 3, SEND_IP));
    expect(hits.map((h) => h.allowed)).toEqual([true, true, true, false]);
    expect(hits[3].retryAfterMs).toBeGreaterThan(0);
    expect(sut.redis).toBeUndefined();
    sut.onApplicationShutdown();
  });

  // Needs a live Redis: skipped with the set-up's printed reason when none answers.
  (REDIS_AVAILABLE ? describe : describe.skip)('with Redis up', () => {
    let sut: OtpThrottlerStorage;
    const key = `otp-test:unit:${process.pid}:${Date.now()}`;
    beforeAll(async () => {
      sut = new OtpThrottlerStorage({ redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' });
      await sut.onModuleInit();
    });
    afterAll(() => sut.onApplicationShutdown());

    it('counts in Redis, refuses over the limit, and a refund gives a hit back', async () => {
      const first = await sut.hit(key, 60_000, 2, SEND_IP);
      const second = await sut.hit(key, 60_000, 2, SEND_IP);
      expect([first.allowed, second.allowed, first.store]).toEqual([true, true, 'redis']);
      expect((await sut.hit(key, 60_000, 2, SEND_IP)).allowed).toBe(false);
      await sut.refund(key, 60_000, second.window, second.store);
      expect((await sut.hit(key, 60_000, 2, SEND_IP)).allowed).toBe(true);
      await sut.redis?.del(`{${key}}:${first.window}`, `{${key}}:${first.window - 1}`);
    });
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

    it('send limits fail closed, fast', async () => {
      const started = Date.now();
      await expect(sut.hit('k', 60_000, 3, SEND_IP)).rejects.toBeInstanceOf(ThrottleStoreUnavailableError);
      await expect(sut.hit('k', 60_000, 3, 'global-cap')).rejects.toBeInstanceOf(
        ThrottleStoreUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it('verify-ip falls back to per-instance memory limits', async () => {
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await sut.hit('v-ip', 60_000, 2, VERIFY_IP));
      expect(results.map((r) => [r.allowed, r.store])).toEqual([
        [true, 'memory'],
        [true, 'memory'],
        [false, 'memory'],
      ]);
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
