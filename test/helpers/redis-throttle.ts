import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The local Redis the multi-instance throttler tests share. */
export const LOCAL_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A port nothing listens on: a Redis that is down. */
export const DEAD_REDIS_URL = 'redis://127.0.0.1:6390';

/**
 * Whether a Redis answered at LOCAL_REDIS_URL when the run started (test/setup/global-setup.ts
 * checks; without one, Redis-backed tests are skipped with a printed reason unless REQUIRE_REDIS=1).
 */
export const REDIS_AVAILABLE = process.env.TEST_REDIS_AVAILABLE !== '0';
/** `it` for a test that needs a live Redis. */
export const itWithRedis = REDIS_AVAILABLE ? it : it.skip;

/** A client that gives up instead of retrying forever (a Redis that goes away never hangs a test). */
const connectBounded = (url: string) =>
  new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });

/** A throttler key prefix of its own per test run, so runs never share buckets. */
export function uniqueThrottlePrefix(): string {
  return `otp-test:${Date.now()}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key a run wrote (the Redis store wraps keys as `{<key>:<throttler>}:hits|blocked`). */
export async function deleteThrottleKeys(prefix: string, url = LOCAL_REDIS_URL): Promise<number> {
  if (!REDIS_AVAILABLE && url === LOCAL_REDIS_URL) return 0;
  const redis = connectBounded(url);
  await redis.connect();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 500);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Every key a run wrote, for asserting that nothing in Redis holds a phone number in clear. */
export async function throttleKeys(prefix: string, url = LOCAL_REDIS_URL): Promise<string[]> {
  const redis = connectBounded(url);
  await redis.connect();
  try {
    return await redis.keys(`{${prefix}*`);
  } finally {
    redis.disconnect();
  }
}
