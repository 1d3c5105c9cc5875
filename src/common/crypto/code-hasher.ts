import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretKey } from './secret-keys.js';

export interface CodeBinding {
  id: string;
  phone: string;
  purpose: string;
}

/**
 * Keyed hashes of codes: HMAC-SHA256 over the code bound to its row (id, phone, purpose). A dump of
 * the table cannot be brute-forced without OTP_HASH_SECRET, and a hash moved to another row no
 * longer matches. Comparison is constant-time, and a miss costs the same work as a hit.
 */
export class CodeHasher {
  constructor(private readonly keys: SecretKey[]) {
    if (keys.length === 0) throw new Error('CodeHasher needs at least one key');
  }

  /** Hash under the current key; returns the hash and the id of the key that made it. */
  hash(binding: CodeBinding, code: string): { hash: string; keyId: string } {
    const key = this.keys[0];
    return { hash: this.mac(key.hmacKey, binding, code), keyId: key.id };
  }

  /** True when `code` is the code hashed into `storedHash` under key `keyId` for this row. */
  matches(binding: CodeBinding, code: string, storedHash: string, keyId: string): boolean {
    const key = this.keys.find((k) => k.id === keyId);
    // An unknown key id (a retired secret) still computes a MAC so the path costs the same.
    const candidate = Buffer.from(this.mac((key ?? this.keys[0]).hmacKey, binding, code), 'base64url');
    const stored = Buffer.from(storedHash, 'base64url');
    const equal = candidate.length === stored.length && timingSafeEqual(candidate, stored);
    return equal && key !== undefined;
  }

  private mac(key: Buffer, b: CodeBinding, code: string): string {
    // Length-prefixed fields: no two different (id, phone, purpose, code) tuples share an input.
    const input = [b.id, b.phone, b.purpose, code].map((f) => `${f.length}:${f}`).join('|');
    return createHmac('sha256', key).update('otp-code/v1|').update(input).digest('base64url');
  }
}
