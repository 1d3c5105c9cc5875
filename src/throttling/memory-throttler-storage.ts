import type { ThrottlerStorage } from '@nestjs/throttler';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Per-instance counting (no REDIS_URL, and the fallback of throttlers that may fall back) over
 * rate-limiter-flexible's memory limiter: one counter per key in a fixed window, O(1) per hit.
 *
 * Not @nestjs/throttler's own ThrottlerStorageService: that one keeps one expiry timestamp per hit
 * and filters the whole list on every hit, so the shared keys (the per-country cap and the global
 * fuse see every send) cost O(sends in the last hour) per request and tens of MB per minute under
 * load (measured with `npm run bench`: RSS from 186 to 549 MB in three minutes). Fixed windows
 * are also what the Redis store counts in, so both stores answer alike.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  /** One limiter per (window, limit, block) shape: a handful, one per throttler. */
  private readonly limiters = new Map<string, RateLimiterMemory>();

  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerRecord> {
    const limiter = this.limiterFor(ttl, limit, blockDuration);
    try {
      const res = await limiter.consume(key);
      return {
        totalHits: res.consumedPoints,
        timeToExpire: seconds(res.msBeforeNext),
        isBlocked: false,
        timeToBlockExpire: 0,
      };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return {
        totalHits: error.consumedPoints,
        timeToExpire: seconds(error.msBeforeNext),
        isBlocked: true,
        timeToBlockExpire: seconds(error.msBeforeNext),
      };
    }
  }

  private limiterFor(ttlMs: number, limit: number, blockDurationMs: number): RateLimiterMemory {
    const shape = `${ttlMs}:${limit}:${blockDurationMs}`;
    let limiter = this.limiters.get(shape);
    if (!limiter) {
      limiter = new RateLimiterMemory({
        points: limit,
        duration: ttlMs / 1000,
        // A tripped key stays shut for the block duration, counted from the refused hit.
        blockDuration: blockDurationMs / 1000,
      });
      this.limiters.set(shape, limiter);
    }
    return limiter;
  }
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}
