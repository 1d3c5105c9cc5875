import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export { matchesAny } from './webhook-signature.js';

/**
 * Meta's callback signature (X-Hub-Signature-256 without its `sha256=` prefix): lowercase hex
 * HMAC-SHA256 of the raw body bytes, keyed with the app secret as UTF-8.
 */
export function metaSignature(appSecret: string, rawBody: Buffer): string {
  return createHmac('sha256', Buffer.from(appSecret, 'utf8')).update(rawBody).digest('hex');
}

/**
 * True when `presented` equals any of `tokens`. Both sides are hashed first, so the comparison
 * is constant-time whatever the lengths, and every token is compared (the time does not reveal
 * which one matched, or whether one has the same length).
 */
export function matchesAnyToken(tokens: readonly string[], presented: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  const presentedDigest = digest(presented);
  let ok = false;
  for (const token of tokens) ok = timingSafeEqual(digest(token), presentedDigest) || ok;
  return ok;
}
