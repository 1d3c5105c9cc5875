import { LRUCache } from 'lru-cache';

/** The answer of one counted (or refused) hit of a sliding-window counter. */
export interface WindowHit {
  allowed: boolean;
  /** Refused: when the window will admit one more hit (ms); 0 when allowed. */
  retryAfterMs: number;
  /** The fixed window the hit was counted in (refunds take it off there). */
  window: number;
}

/** One key's counts: the current fixed window and the one before it. */
interface Counter {
  window: number;
  current: number;
  previous: number;
}

/** Default bound on the keys counted in memory: about 20 MB at most. */
export const MEMORY_THROTTLER_MAX_KEYS = 100_000;

/**
 * The sliding-window counter (as nginx, Cloudflare and the Redis rate-limiting patterns count): the
 * previous fixed window's count weighted by the part of it still inside the rolling window, plus
 * the current window's. A burst at a window boundary therefore still meets the limit (a fixed
 * window would admit twice the limit across the boundary). It assumes the previous window's hits
 * were spread evenly, so it can admit slightly more or fewer than an exact log would; never more
 * than twice the limit in any span of one window.
 */
export function slidingDecision(
  previous: number,
  current: number,
  elapsedMs: number,
  windowMs: number,
  limit: number,
): { allowed: boolean; retryAfterMs: number } {
  const weight = (windowMs - elapsedMs) / windowMs;
  if (previous * weight + current + 1 <= limit) return { allowed: true, retryAfterMs: 0 };
  const room = limit - 1;
  if (current <= room) {
    // The previous window's share fades linearly: wait until it leaves room for one more.
    const at = windowMs * (1 - (room - current) / previous);
    return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(at - elapsedMs)) };
  }
  // The current window alone is full: wait for the next one, then for this one's share to fade.
  const at = windowMs * (1 - room / current);
  return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(windowMs - elapsedMs + at)) };
}

/** Moves a counter to `window`: the current count becomes the previous one, or both reset. */
function roll(counter: Counter, window: number): void {
  if (counter.window === window) return;
  counter.previous = counter.window === window - 1 ? counter.current : 0;
  counter.current = 0;
  counter.window = window;
}

/**
 * Per-instance counting (no REDIS_URL, and the fallback of the limits that may fall back): one
 * sliding-window counter per key, O(1) per hit, in an LRU map bounded to `maxKeys` (lru-cache).
 * Only per-IP limits, the country cap and the global fuse count here; per-phone limits live in
 * PostgreSQL (otp.statements.ts), so a flood that evicts counters here can never reset them.
 */
export class MemoryThrottlerStorage {
  private readonly counters: LRUCache<string, Counter>;

  constructor(maxKeys = MEMORY_THROTTLER_MAX_KEYS) {
    this.counters = new LRUCache<string, Counter>({ max: maxKeys });
  }

  hit(key: string, windowMs: number, limit: number, now = Date.now()): WindowHit {
    const id = `${windowMs}:${key}`;
    const window = Math.floor(now / windowMs);
    let counter = this.counters.get(id);
    if (!counter) {
      counter = { window, current: 0, previous: 0 };
      this.counters.set(id, counter);
    }
    roll(counter, window);
    const decision = slidingDecision(
      counter.previous,
      counter.current,
      now - window * windowMs,
      windowMs,
      limit,
    );
    if (decision.allowed) counter.current++;
    return { ...decision, window };
  }

  /** Takes back a hit counted in `window` (a request refused later, Decision 4). */
  refund(key: string, windowMs: number, window: number, now = Date.now()): void {
    const counter = this.counters.get(`${windowMs}:${key}`);
    if (!counter) return;
    roll(counter, Math.floor(now / windowMs));
    if (counter.window === window && counter.current > 0) counter.current--;
    else if (counter.window === window + 1 && counter.previous > 0) counter.previous--;
  }

  /** Keys counted now (at most maxKeys). */
  get size(): number {
    return this.counters.size;
  }
}
