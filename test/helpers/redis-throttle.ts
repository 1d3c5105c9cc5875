import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The local Redis the multi-instance throttler tests share. */
export const LOCAL_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A port nothing listens on: a Redis that is down. */
export const DEAD_REDIS_URL = 'redis://127.0.0.1:6390';

/** A throttler key prefix of its own per test run, so runs never share buckets. */
export function uniqueThrottlePrefix(): string {
  return `otp-test:${Date.now()}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key a run wrote (the Redis store wraps keys as `{<key>:<throttler>}:hits|blocked`). */
export async function deleteThrottleKeys(prefix: string, url = LOCAL_REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
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
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await redis.keys(`{${prefix}*`);
  } finally {
    redis.disconnect();
  }
}
