import { createHash } from 'node:crypto';
import { CodeHasher } from './code-hasher.js';
import { PayloadCipher } from './payload-cipher.js';
import { deriveKeys } from './secret-keys.js';

const OLD = 'old-secret-0123456789abcdefghijklmnopqrstuv';
const NEW = 'new-secret-0123456789abcdefghijklmnopqrstuv';
const row = { id: '6f1c7c1e-5f5e-4a53-9a83-0d6c3c1b2f10', phone: '+233241234567', purpose: 'login' };

describe('CodeHasher', () => {
  const sut = new CodeHasher(deriveKeys([NEW, OLD]));

  it('matches the right code for its own row only', () => {
    const { hash, keyId } = sut.hash(row, '123456');
    expect(sut.matches(row, '123456', hash, keyId)).toBe(true);
    expect(sut.matches(row, '123457', hash, keyId)).toBe(false);
    expect(sut.matches({ ...row, id: '00000000-0000-4000-8000-000000000000' }, '123456', hash, keyId)).toBe(
      false,
    );
    expect(sut.matches({ ...row, phone: '+233241234568' }, '123456', hash, keyId)).toBe(false);
    expect(sut.matches({ ...row, purpose: 'payment' }, '123456', hash, keyId)).toBe(false);
  });

  it('is keyed: neither the code, its SHA-256 nor an unkeyed HMAC input appears in the hash', () => {
    const { hash } = sut.hash(row, '123456');
    expect(hash).not.toContain('123456');
    expect(hash).not.toBe(createHash('sha256').update('123456').digest('base64url'));
    const otherKey = new CodeHasher(deriveKeys(['another-secret-0123456789abcdefghijklmnop'])).hash(
      row,
      '123456',
    );
    expect(otherKey.hash).not.toBe(hash);
  });

  it('verifies hashes made under a previous key during a rotation, and not under an unknown one', () => {
    const old = new CodeHasher(deriveKeys([OLD])).hash(row, '654321');
    expect(sut.matches(row, '654321', old.hash, old.keyId)).toBe(true);
    const retired = new CodeHasher(deriveKeys([NEW]));
    expect(retired.matches(row, '654321', old.hash, old.keyId)).toBe(false);
  });

  it('rejects malformed stored hashes without throwing', () => {
    const { keyId } = sut.hash(row, '123456');
    expect(sut.matches(row, '123456', '', keyId)).toBe(false);
    expect(sut.matches(row, '123456', 'not-base64!!', keyId)).toBe(false);
  });
});

describe('PayloadCipher', () => {
  const sut = new PayloadCipher(deriveKeys([NEW, OLD]));

  it('round-trips, never shows the plaintext, and uses a fresh IV each time', () => {
    const a = sut.encrypt('123456', row.id);
    const b = sut.encrypt('123456', row.id);
    expect(a).not.toBe(b);
    expect(a).not.toContain('123456');
    expect(sut.decrypt(a, row.id)).toBe('123456');
  });

  it('refuses a ciphertext bound to another row, tampered with, or under an unknown key', () => {
    const token = sut.encrypt('123456', row.id);
    expect(() => sut.decrypt(token, 'another-id')).toThrow();
    const parts = token.split('.');
    parts[3] = Buffer.from('999999').toString('base64url');
    expect(() => sut.decrypt(parts.join('.'), row.id)).toThrow();
    expect(() => new PayloadCipher(deriveKeys([OLD])).decrypt(token, row.id)).toThrow(
      'undecryptable payload',
    );
  });

  it('decrypts payloads made under a previous key during a rotation', () => {
    const token = new PayloadCipher(deriveKeys([OLD])).encrypt('777777', row.id);
    expect(sut.decrypt(token, row.id)).toBe('777777');
  });
});
