import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretKey } from './secret-keys.js';

/**
 * AES-256-GCM for the one secret a delivery job must carry: the code itself. The ciphertext is
 * bound to the code's row id (additional authenticated data), so it cannot be replayed into another
 * job. Format: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
export class PayloadCipher {
  constructor(private readonly keys: SecretKey[]) {
    if (keys.length === 0) throw new Error('PayloadCipher needs at least one key');
  }

  encrypt(plaintext: string, boundTo: string): string {
    const key = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.aeadKey, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      key.id,
      iv.toString('base64url'),
      ct.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /** Returns the plaintext, or throws when the key is unknown or the ciphertext was tampered with. */
  decrypt(token: string, boundTo: string): string {
    const [version, keyId, iv, ct, tag] = token.split('.');
    const key = this.keys.find((k) => k.id === keyId);
    if (version !== 'v1' || !key || !iv || !ct || !tag) throw new Error('undecryptable payload');
    const decipher = createDecipheriv('aes-256-gcm', key.aeadKey, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}
