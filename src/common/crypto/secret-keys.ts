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
 * Keys of the throttle-store bucket names (HMAC of the client IP), one per entry of
 * OTP_HASH_SECRET, derived by HKDF (info `throttle-key`, independent of the code-hash key). While
 * a rotation lists several secrets, each hit is counted under every key and refused when any of
 * those buckets is full: `old` → `new,old` (or `old,new`) keeps counting the buckets of `old`, so
 * a rotation never resets a limit; once `old` has been listed beside `new` for a full window
 * (an hour), the buckets of `new` hold the same counts and `old` can go.
 */
export function deriveThrottleKeys(secrets: string[]): Buffer[] {
  return secrets.map((secret) =>
    Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, 'throttle-key', 32)),
  );
}
