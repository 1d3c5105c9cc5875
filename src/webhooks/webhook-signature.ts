import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Sinch Conversation callback signature (sinch-sdk-node `authorization.helper.ts`):
 * base64(HMAC-SHA256(key = secret as UTF-8, data = rawBody + "." + nonce + "." + timestamp)).
 * The body goes in as the exact bytes received: re-serialised JSON would change escapes and emoji.
 */
export function sinchSignature(secret: string, rawBody: Buffer, nonce: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(rawBody)
    .update(`.${nonce}.${timestamp}`, 'utf8')
    .digest('base64');
}

/** EnoSend: lowercase hex HMAC-SHA256 of the raw body. */
export function enosendSignature(secret: string, rawBody: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(rawBody).digest('hex');
}

/** Constant-time comparison of two strings; a length mismatch is a plain `false`. */
export function safeEqual(expected: string, presented: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(presented, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * True when `presented` matches the signature under any of `secrets` (rotation: `new,old`). Every
 * secret is tried, so the time taken does not reveal which one matched.
 */
export function matchesAny(
  secrets: readonly string[],
  presented: string,
  sign: (secret: string) => string,
): boolean {
  let ok = false;
  for (const secret of secrets) ok = safeEqual(sign(secret), presented) || ok;
  return ok;
}
