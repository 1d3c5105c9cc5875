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
