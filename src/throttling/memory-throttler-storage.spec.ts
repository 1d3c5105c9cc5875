import { MemoryThrottlerStorage } from './memory-throttler-storage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MemoryThrottlerStorage', () => {
  it('counts hits per key and trips on the hit after the limit, with the time left', async () => {
    const sut = new MemoryThrottlerStorage();
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push(await sut.increment('a', 60_000, 3, 60_000));
    expect(hits.map((h) => [h.totalHits, h.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(hits[0].timeToExpire).toBe(60);
    expect(hits[3].timeToBlockExpire).toBeGreaterThan(55);
    // Another key has its own count.
    expect(await sut.increment('b', 60_000, 3, 60_000)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps throttlers with different limits apart even on the same key', async () => {
    const sut = new MemoryThrottlerStorage();
    await sut.increment('k', 60_000, 1, 60_000);
    expect((await sut.increment('k', 60_000, 1, 60_000)).isBlocked).toBe(true);
    expect((await sut.increment('k', 60_000, 5, 60_000)).isBlocked).toBe(false);
  });

  it('opens again when the window (and the block) has passed', async () => {
    const sut = new MemoryThrottlerStorage();
    expect((await sut.increment('w', 300, 1, 300)).isBlocked).toBe(false);
    expect((await sut.increment('w', 300, 1, 300)).isBlocked).toBe(true);
    await sleep(700);
    expect(await sut.increment('w', 300, 1, 300)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('a shared key takes any number of hits without keeping one entry per hit', async () => {
    const sut = new MemoryThrottlerStorage();
    let last;
    for (let i = 0; i < 20_000; i++) last = await sut.increment('global', 3_600_000, 1_000_000, 3_600_000);
    expect(last).toMatchObject({ totalHits: 20_000, isBlocked: false });
    expect(sut.size).toBe(1);
  });

  it('stays within its key bound under a flood of new keys, and a key in use keeps its count', async () => {
    const sut = new MemoryThrottlerStorage(1000);
    for (let i = 0; i < 5000; i++) {
      await sut.increment(`flood-${i}`, 3_600_000, 3, 3_600_000);
      await sut.increment('fuse', 60_000, 1_000_000, 60_000);
    }
    expect(sut.size).toBeLessThanOrEqual(1000);
    expect(await sut.increment('fuse', 60_000, 1_000_000, 60_000)).toMatchObject({ totalHits: 5001 });
  });
});
