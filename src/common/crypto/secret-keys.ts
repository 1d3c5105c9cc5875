import { createHash, hkdfSync } from 'node:crypto';

/** One server-side secret from OTP_HASH_SECRET, with the keys derived from it. */
export interface SecretKey {
  /** Short public fingerprint stored beside each hash/ciphertext so rotation knows which key to use. */
  id: string;
  /** HMAC key for code hashes. */
  hmacKey: Buffer;
  /** AES-256-GCM key for delivery-job payloads (HKDF, so it is independent of the HMAC key). */
  aeadKey: Buffer;
}

const SALT = Buffer.from('whatsapp-otp-service/v1');

/** Derives keys from OTP_HASH_SECRET's entries; the first is current, the rest still verify/decrypt. */
export function deriveKeys(secrets: string[]): SecretKey[] {
  return secrets.map((secret) => {
    const ikm = Buffer.from(secret, 'utf8');
    return {
      id: createHash('sha256').update(ikm).digest('hex').slice(0, 8),
      hmacKey: Buffer.from(hkdfSync('sha256', ikm, SALT, 'code-hash', 32)),
      aeadKey: Buffer.from(hkdfSync('sha256', ikm, SALT, 'delivery-payload', 32)),
    };
  });
}

/**
 * Key of the throttle-store bucket names (HMAC of the client IP or country), derived by HKDF from
 * the LAST entry of OTP_HASH_SECRET: the oldest secret still listed. A rotation goes `old` →
 * `new,old` → `new`; the first step keeps `old` last, so bucket names, and the counts under them,
 * do not move while both secrets are listed (a rotation cannot be used to reset limits). The last
 * step, dropping `old`, starts the per-IP buckets afresh once; per-phone limits live in PostgreSQL
 * keyed by the phone itself and never reset.
 */
export function deriveThrottleKey(secrets: string[]): Buffer {
  const oldest = secrets[secrets.length - 1];
  return Buffer.from(hkdfSync('sha256', Buffer.from(oldest, 'utf8'), SALT, 'throttle-key', 32));
}
