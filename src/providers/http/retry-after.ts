/** Longest Retry-After we pass on; a provider asking for more is treated as asking for an hour. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** Retry-After as milliseconds from now (seconds or an HTTP date), capped at one hour. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.round(Number(text) * 1000);
  else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
