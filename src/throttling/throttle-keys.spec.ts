import { deriveThrottleKeys } from '../common/index.js';
import { clientIpOf, ipTracker, throttleKey } from './throttle-keys.js';

describe('throttle keys', () => {
  describe('clientIpOf / ipTracker', () => {
    it('prefers a valid clientIp from the calling backend over the socket address', () => {
      expect(clientIpOf({ body: { clientIp: '203.0.113.9' }, ip: '10.0.0.1' })).toBe('203.0.113.9');
    });

    it('ignores a clientIp that is not an IP', () => {
      expect(clientIpOf({ body: { clientIp: 'evil' }, ip: '10.0.0.1' })).toBe('10.0.0.1');
      expect(clientIpOf({ body: { clientIp: 42 }, ip: '10.0.0.1' })).toBe('10.0.0.1');
    });

    it('counts IPv6 per /64 and unwraps IPv4-mapped addresses', () => {
      const a = clientIpOf({ body: { clientIp: '2001:db8:1:2:aaaa::1' } });
      const b = clientIpOf({ body: { clientIp: '2001:db8:1:2:bbbb::2' } });
      expect(a).toBe(b);
      expect(clientIpOf({ ip: '::ffff:198.51.100.7' })).toBe('198.51.100.7');
    });

    it('scopes IP buckets to the calling client', () => {
      const req = { body: { clientIp: '203.0.113.9' } };
      expect(ipTracker({ ...req, client: 'acme' })).toBe('acme|203.0.113.9');
      expect(ipTracker({ ...req, client: 'globex' })).not.toBe(ipTracker({ ...req, client: 'acme' }));
    });
  });

  describe('throttleKey', () => {
    const [key] = deriveThrottleKeys(['a-secret-of-at-least-32-characters-0001']);

    it('is deterministic, prefixed, named, and never holds the tracker in clear', () => {
      const sut = throttleKey('p:', 'send-ip', 'acme|203.0.113.9', key);
      expect(sut).toBe(throttleKey('p:', 'send-ip', 'acme|203.0.113.9', key));
      expect(sut).toMatch(/^p:send-ip:[A-Za-z0-9_-]{43}$/);
      expect(sut).not.toContain('203.0.113.9');
      expect(throttleKey('p:', 'verify-ip', 'acme|203.0.113.9', key)).not.toBe(sut);
    });

    it('keys come from HKDF, one per listed secret: `new,old` and `old,new` keep the bucket of `old`', () => {
      const old = 'the-old-secret-of-at-least-32-characters-01';
      const next = 'the-new-secret-of-at-least-32-characters-02';
      const bucket = (k: Buffer) => throttleKey('p:', 'send-ip', 'acme|203.0.113.9', k);
      const before = bucket(deriveThrottleKeys([old])[0]);
      expect(deriveThrottleKeys([next, old]).map(bucket)).toContain(before);
      expect(deriveThrottleKeys([old, next]).map(bucket)).toContain(before);
      // Not the raw secret: the HMAC key is an HKDF output, independent of the code-hash key.
      expect(deriveThrottleKeys([old])[0].equals(Buffer.from(old))).toBe(false);
      expect(deriveThrottleKeys([next])[0].equals(deriveThrottleKeys([old])[0])).toBe(false);
    });
  });
});
