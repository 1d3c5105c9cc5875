import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { summarize } from '../common/errors/all-exceptions.filter.js';
import { throttleConfig, type ThrottleConfig } from '../config/index.js';
import { MemoryThrottlerStorage, type ThrottlerRecord } from './memory-throttler-storage.js';
import { VERIFY_IP, VERIFY_PHONE } from './throttle-keys.js';

/** The shared store could not answer and this throttler must not fall back: the guard answers 503. */
export class ThrottleStoreUnavailableError extends Error {
  override readonly name = 'ThrottleStoreUnavailableError';
}

/**
 * Redis-down policy, per throttler. Verify falls back to per-instance memory: a verify is cheap, and
 * each code already allows only OTP_MAX_ATTEMPTS guesses in the database, so weaker per-replica
 * limits for a while cost little, while refusing verify would lock every user out. Everything on
 * send (phone, IP, country cap, global fuse) fails closed: sends cost money and are what bombing and
 * pumping abuse, and per-replica limits would multiply every budget by the replica count.
 */
export const MEMORY_FALLBACK = new Set([VERIFY_PHONE, VERIFY_IP]);

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
 * The one ThrottlerStorage of the service: in memory without REDIS_URL; with it, Redis (the
 * maintained @nest-lab store, so every replica shares one count) plus the memory store as the
 * fallback of the throttlers in MEMORY_FALLBACK. Never hangs: a Redis call fails within ~500 ms.
 */
@Injectable()
export class OtpThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OtpThrottlerStorage.name);
  private readonly memory = new MemoryThrottlerStorage();
  readonly redis?: Redis;
  private readonly shared?: ThrottlerStorageRedisService;
  private connecting?: Promise<void>;
  /** Set while Redis is down, so an outage is logged once, not on every reconnect attempt. */
  private downSince?: number;

  constructor(@Inject(throttleConfig.KEY) config: Pick<ThrottleConfig, 'redisUrl'>) {
    if (!config.redisUrl) return;
    this.redis = new Redis(config.redisUrl, REDIS_OPTIONS);
    // Without a listener ioredis prints every failed reconnect; log only the transitions instead.
    this.redis.on('error', (error: unknown) => this.markDown(error));
    this.redis.on('ready', () => {
      this.logger.log({ event: 'redis_up' }, 'throttler store connected');
      this.downSince = undefined;
    });
    this.shared = new ThrottlerStorageRedisService(this.redis);
  }

  /** Connects once at boot (so the first requests find it ready); boots anyway when Redis is down. */
  onModuleInit(): Promise<void> {
    this.connecting ??= this.redis
      ? this.redis.connect().catch((error: unknown) => this.markDown(error))
      : Promise.resolve();
    return this.connecting;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    if (!this.shared) return this.memory.increment(key, ttl, limit, blockDuration);
    try {
      return await this.shared.increment(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      this.markDown(error);
      if (MEMORY_FALLBACK.has(throttlerName)) {
        return this.memory.increment(key, ttl, limit, blockDuration);
      }
      throw new ThrottleStoreUnavailableError('throttler store unavailable');
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
