// The codes the run knows about: sends accepted, messages the fake provider received (with their
// codes), and the pools the verify scenarios draw from.
import { performance } from 'node:perf_hooks';
import { request } from './http.mjs';
import { sleep } from './util.mjs';

export const accepted = new Map(); // digits → acceptance time (instant-provider sends)
export const delivered = new Map(); // digits → { t, code } as received by the fake provider
let receivedIndex = 0;
export const rightPool = []; // { phone, code }: delivered codes nobody has guessed yet
export const wrongPool = []; // { phone, code, left }: codes taking wrong guesses (left before the code would burn)

export const wrongCodeOf = (code) =>
  String((Number(code) + 1) % 10 ** code.length).padStart(code.length, '0');

export const undelivered = new Set(); // accepted (instant provider) but not yet seen at the provider

/** Reads the provider's new messages until every accepted send has arrived (bounded); fills the code pool. */
export async function syncDeliveries(fakePort, maxWaitMs) {
  const t0 = performance.now();
  const before = undelivered.size;
  for (;;) {
    const rows = (await request(fakePort, 'GET', `/_received?from=${receivedIndex}`, undefined, 30_000)).json;
    receivedIndex += rows.length;
    for (const [digits, t, code] of rows) {
      if (delivered.has(digits) || !code) continue;
      delivered.set(digits, { t, code });
      undelivered.delete(digits);
      if (accepted.has(digits)) rightPool.push({ phone: `+${digits}`, code });
    }
    if (undelivered.size === 0 || performance.now() - t0 > maxWaitMs) break;
    await sleep(100);
  }
  const waitedMs = performance.now() - t0;
  return {
    waitedMs,
    backlog: undelivered.size,
    drainRate: waitedMs > 200 ? ((before - undelivered.size) * 1000) / waitedMs : undefined,
  };
}
