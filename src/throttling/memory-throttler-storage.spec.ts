import { MemoryThrottlerStorage, slidingDecision } from './memory-throttler-storage.js';

const HOUR = 3_600_000;
/** A time exactly at the start of a window, so tests place hits by hand. */
const T0 = Math.floor(Date.now() / HOUR) * HOUR;

describe('MemoryThrottlerStorage (sliding-window counter)', () => {
  it('counts hits per key and refuses the hit over the limit, with the time until one more fits', () => {
    const sut = new MemoryThrottlerStorage();
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push(sut.hit('a', HOUR, 3, T0 + 1000));
    expect(hits.map((h) => h.allowed)).toEqual([true, true, true, false]);
    expect(hits[3].retryAfterMs).toBeGreaterThan(HOUR - 2000);
    expect(sut.hit('b', HOUR, 3, T0 + 1000).allowed).toBe(true);
  });

  it('is rolling: a burst at the end of one window still counts just after the boundary', () => {
    const sut = new MemoryThrottlerStorage();
    for (let i = 0; i < 10; i++) expect(sut.hit('k', HOUR, 10, T0 + HOUR - 1000).allowed).toBe(true);
    // A fixed window would admit 10 more a second later; the rolling one admits none.
    const next = sut.hit('k', HOUR, 10, T0 + HOUR + 1000);
    expect(next.allowed).toBe(false);
    // Half-way through the next window, half of the previous window's hits still count.
    const half = T0 + HOUR + HOUR / 2;
    const admitted = Array.from({ length: 10 }, () => sut.hit('k', HOUR, 10, half)).filter((h) => h.allowed);
    expect(admitted).toHaveLength(5);
  });

  it('a refund gives back a counted hit, in the window it was counted in', () => {
    const sut = new MemoryThrottlerStorage();
    const first = sut.hit('r', HOUR, 1, T0 + 10);
    expect(sut.hit('r', HOUR, 1, T0 + 20).allowed).toBe(false);
    sut.refund('r', HOUR, first.window, T0 + 30);
    expect(sut.hit('r', HOUR, 1, T0 + 40).allowed).toBe(true);
  });

  it('keeps windows of different lengths apart even on the same key', () => {
    const sut = new MemoryThrottlerStorage();
    expect(sut.hit('k', HOUR, 1, T0).allowed).toBe(true);
    expect(sut.hit('k', 60_000, 1, T0).allowed).toBe(true);
  });

  it('stays within its key bound under a flood of new keys, and a key in use keeps its count', () => {
    const sut = new MemoryThrottlerStorage(1000);
    for (let i = 0; i < 5000; i++) {
      sut.hit(`flood-${i}`, HOUR, 3, T0);
      sut.hit('fuse', HOUR, 1_000_000, T0);
    }
    expect(sut.size).toBeLessThanOrEqual(1000);
    for (let i = 0; i < 995_000; i += 1) if (!sut.hit('fuse', HOUR, 1_000_000, T0).allowed) break;
    expect(sut.hit('fuse', HOUR, 1_000_000, T0).allowed).toBe(false);
  });

  it('slidingDecision: the retry time is when the weighted count leaves room for one', () => {
    // 10 in the previous window, none now, limit 10, at the boundary: 1/10 of the window to wait.
    expect(slidingDecision(10, 0, 0, HOUR, 10)).toEqual({ allowed: false, retryAfterMs: HOUR / 10 });
    // The current window alone is full: the rest of it plus the time its share needs to fade.
    expect(slidingDecision(0, 4, HOUR / 2, HOUR, 4)).toEqual({
      allowed: false,
      retryAfterMs: HOUR / 2 + HOUR / 4,
    });
  });
});
