import { canonicalJson, IdempotencyService } from './idempotency.service.js';

describe('idempotency fingerprint', () => {
  it('is independent of key order and undefined fields, and sensitive to any value', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,2]},"b":1}');
    const sut = IdempotencyService.fingerprint;
    expect(sut({ phone: '+233', purpose: 'login' })).toBe(
      sut({ purpose: 'login', phone: '+233', locale: undefined }),
    );
    expect(sut({ phone: '+233', purpose: 'login' })).not.toBe(sut({ phone: '+233', purpose: 'reset' }));
    expect(sut({ phone: '+233' })).toMatch(/^[0-9a-f]{64}$/);
  });
});
