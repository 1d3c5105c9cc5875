import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { summarize } from '../common/index.js';
import { throttleConfig, type ThrottleConfig } from '../config/index.js';
import { MemoryThrottlerStorage, slidingDecision, type WindowHit } from './memory-throttler-storage.js';
import { VERIFY_IP } from './throttle-keys.js';

/** The shared store could not answer and this limit must not fall back: the caller answers 503. */
export class ThrottleStoreUnavailableError extends Error {
  override readonly name = 'ThrottleStoreUnavailableError';
}

/**
 * Redis-down policy, per limit. Verify falls back to per-instance memory: a verify is cheap, and
 * each code already allows only OTP_MAX_ATTEMPTS guesses and each (client, phone) its verify limit
 * in the database, so weaker per-replica IP limits for a while cost little, while refusing verify
 * would lock every user out. Everything on send (IP, country cap, global fuse) fails closed: sends
 * cost money and are what bombing and pumping abuse.
 */
export const MEMORY_FALLBACK = new Set([VERIFY_IP]);

/** ioredis options that fail fast: no offline queue, no per-command retries, short timeouts. */
export const REDIS_OPTIONS = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 1000,
  commandTimeout: 500,
  // A socket that does not close on shutdown is destroyed after this long.
  disconnectTimeout: 200,
  // Reconnect in the background, at most every 2 s, until shutdown.
  retryStrategy: (times: number) => Math.min(times * 200, 2000),
};

/**
 * The sliding-window hit in Redis, atomically (one script): KEYS[1] the current window's count,
 * KEYS[2] the previous one's; ARGV limit, window length and time elapsed in the current window (ms).
 * The keys share a hash tag, so they live in one cluster slot.
 */
const HIT_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
if previous * (window - elapsed) / window + current + 1 <= limit then
  current = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return {1, current, previous}
end
return {0, current, previous}`;

const REFUND_SCRIPT = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then return redis.call('DECR', KEYS[1]) end
return 0`;

type ScriptedRedis = Redis & {
  throttleHit(k1: string, k2: string, limit: number, windowMs: number, elapsed: number): Promise<number[]>;
  throttleRefund(k1: string): Promise<number>;
};

/** Redis key of one fixed window of a counter: `{<key>}:<window>`. */
const windowKey = (key: string, window: number) => `{${key}}:${window}`;

/**
 * The store of the per-IP limits, the country cap and the global fuse: sliding-window counters
 * in memory without REDIS_URL; with it in Redis (one Lua script per hit, so every replica shares
 * one count) plus the memory store as the fallback of the limits in MEMORY_FALLBACK. Never hangs:
 * a Redis call fails within ~500 ms. Per-phone limits are not here: PostgreSQL counts them.
 */
@Injectable()
export class OtpThrottlerStorage implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OtpThrottlerStorage.name);
  readonly memory = new MemoryThrottlerStorage();
  readonly redis?: ScriptedRedis;
  private connecting?: Promise<void>;
  /** Set while Redis is down, so an outage is logged once, not on every reconnect attempt. */
  private downSince?: number;

  constructor(@Inject(throttleConfig.KEY) config: Pick<ThrottleConfig, 'redisUrl'>) {
    if (!config.redisUrl) return;
    const redis = new Redis(config.redisUrl, REDIS_OPTIONS);
    redis.defineCommand('throttleHit', { numberOfKeys: 2, lua: HIT_SCRIPT });
    redis.defineCommand('throttleRefund', { numberOfKeys: 1, lua: REFUND_SCRIPT });
    this.redis = redis as ScriptedRedis;
    // Without a listener ioredis prints every failed reconnect; log only the transitions instead.
    this.redis.on('error', (error: unknown) => this.markDown(error));
    this.redis.on('ready', () => {
      this.logger.log({ event: 'redis_up' }, 'throttler store connected');
      this.downSince = undefined;
    });
  }

  /** Connects once at boot (so the first requests find it ready); boots anyway when Redis is down. */
  onModuleInit(): Promise<void> {
    this.connecting ??= this.redis
      ? this.redis.connect().catch((error: unknown) => this.markDown(error))
      : Promise.resolve();
    return this.connecting;
  }

  /**
   * Counts one hit unless it would exceed `limit` in the rolling window. The answer says which
   * store counted it (`memory` after a fallback), so a refund goes back to the same place.
   */
  async hit(
    key: string,
    windowMs: number,
    limit: number,
    name: string,
  ): Promise<WindowHit & { store: 'redis' | 'memory' }> {
    if (!this.redis) return { ...this.memory.hit(key, windowMs, limit), store: 'memory' };
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const elapsed = now - window * windowMs;
    try {
      const [allowed, current, previous] = await this.redis.throttleHit(
        windowKey(key, window),
        windowKey(key, window - 1),
        limit,
        windowMs,
        elapsed,
      );
      if (allowed === 1) return { allowed: true, retryAfterMs: 0, window, store: 'redis' };
      const decision = slidingDecision(previous, current, elapsed, windowMs, limit);
      return { allowed: false, retryAfterMs: decision.retryAfterMs || 1000, window, store: 'redis' };
    } catch (error) {
      this.markDown(error);
      if (MEMORY_FALLBACK.has(name)) return { ...this.memory.hit(key, windowMs, limit), store: 'memory' };
      throw new ThrottleStoreUnavailableError('throttler store unavailable');
    }
  }

  /** Takes back a counted hit; best effort (a refund that cannot reach Redis is logged, not thrown). */
  async refund(key: string, windowMs: number, window: number, store: 'redis' | 'memory'): Promise<void> {
    if (store === 'memory' || !this.redis) return this.memory.refund(key, windowMs, window);
    try {
      await this.redis.throttleRefund(windowKey(key, window));
    } catch (error) {
      this.markDown(error);
    }
  }

  onApplicationShutdown(): void {
    // disconnect(), not quit(): shutdown must not wait on a Redis that may be gone.
    this.redis?.disconnect();
  }

  private markDown(error: unknown): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.logger.warn({ event: 'redis_down', err: summarize(error) }, 'throttler store unavailable');
  }
}
