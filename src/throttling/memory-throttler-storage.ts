import type { ThrottlerStorage } from '@nestjs/throttler';
import { LRUCache } from 'lru-cache';

export type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Bucket {
  hits: number;
  /** End of the current fixed window (ms since the epoch). */
  resetAt: number;
  /** A tripped bucket stays shut until then (0: not tripped). */
  blockedUntil: number;
}

/** Default bound on the keys counted in memory: about 20 MB at most. */
export const MEMORY_THROTTLER_MAX_KEYS = 100_000;

/**
 * Per-instance counting (no REDIS_URL, and the fallback of throttlers that may fall back): one
 * fixed-window counter per key, O(1) per hit, in an LRU map bounded to `maxKeys` (lru-cache).
 *
 * Not @nestjs/throttler's own ThrottlerStorageService: that one keeps one expiry timestamp per hit
 * and filters the whole list on every hit, so the shared keys (the per-country cap and the global
 * fuse see every send) cost O(sends in the last hour) per request, and its memory grows with every
 * new phone and IP for an hour (measured with `npm run bench`: RSS from 186 to 549 MB in three
 * minutes). Here memory is bounded whatever arrives: a flood of new phones or IPs evicts the least
 * recently used counters, never the hot ones (the global fuse and country caps see every send, so
 * they stay, and they cap a flood's sends anyway). Fixed windows are also what the Redis store
 * counts in, so both stores answer alike.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(maxKeys = MEMORY_THROTTLER_MAX_KEYS) {
    this.buckets = new LRUCache<string, Bucket>({ max: maxKeys });
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerRecord> {
    const now = Date.now();
    // Throttlers with other windows or limits never share a counter, even on the same key.
    const id = `${ttl}:${limit}:${key}`;
    let bucket = this.buckets.get(id);
    if (!bucket || (bucket.resetAt <= now && bucket.blockedUntil <= now)) {
      bucket = { hits: 0, resetAt: now + ttl, blockedUntil: 0 };
      this.buckets.set(id, bucket);
    } else if (bucket.resetAt <= now) {
      // Still shut, but a new window has begun.
      bucket.hits = 0;
      bucket.resetAt = now + ttl;
    }
    bucket.hits++;
    if (bucket.hits > limit && bucket.blockedUntil <= now) bucket.blockedUntil = now + blockDuration;
    const blocked = bucket.blockedUntil > now;
    return {
      totalHits: bucket.hits,
      timeToExpire: seconds(bucket.resetAt - now),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? seconds(bucket.blockedUntil - now) : 0,
    };
  }

  /** Keys counted now (at most maxKeys). */
  get size(): number {
    return this.buckets.size;
  }
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}
