import { canonicalIp, parseTrustProxy, resolveClientIp } from './client-ip.js';

describe('resolveClientIp', () => {
  const none = parseTrustProxy(undefined);
  const one = parseTrustProxy('1');
  const two = parseTrustProxy('2');
  const cidrs = parseTrustProxy('10.0.0.0/8, 192.168.1.1, fd00::/8');

  it('without trust: the socket peer, X-Forwarded-For ignored', () => {
    expect(resolveClientIp('::ffff:10.1.2.3', '1.2.3.4', none)).toBe('10.1.2.3');
  });

  it('hop count: the n-th address from the right, as Fastify numbers hops', () => {
    expect(resolveClientIp('10.0.0.1', '1.1.1.1, 2.2.2.2, 3.3.3.3', one)).toBe('3.3.3.3');
    expect(resolveClientIp('10.0.0.1', ['1.1.1.1, 2.2.2.2', '3.3.3.3'], two)).toBe('2.2.2.2');
    // Fewer entries than hops: the left-most there is.
    expect(resolveClientIp('10.0.0.1', '3.3.3.3', two)).toBe('3.3.3.3');
    expect(resolveClientIp('10.0.0.1', undefined, one)).toBe('10.0.0.1');
  });

  it('hop count: a non-IP entry yields the nearest trusted hop', () => {
    expect(resolveClientIp('10.0.0.1', '1.1.1.1, evil', one)).toBe('10.0.0.1');
    expect(resolveClientIp('10.0.0.1', 'evil, 3.3.3.3', two)).toBe('3.3.3.3');
  });

  it('CIDRs: the right-most address not in the ranges', () => {
    expect(resolveClientIp('10.9.9.9', '1.1.1.1, 2.2.2.2, 192.168.1.1, 10.0.0.2', cidrs)).toBe('2.2.2.2');
    expect(resolveClientIp('fd00::1', '2001:db8::7', cidrs)).toBe('2001:db8::7');
    // The peer is not a trusted proxy: it is the client, whatever it forwards.
    expect(resolveClientIp('8.8.8.8', '1.1.1.1', cidrs)).toBe('8.8.8.8');
    expect(resolveClientIp('10.9.9.9', '1.1.1.1, junk, 10.0.0.2', cidrs)).toBe('10.0.0.2');
    expect(resolveClientIp('10.9.9.9', '10.0.0.2', cidrs)).toBe('10.0.0.2');
  });

  it('refuses true and malformed values', () => {
    for (const v of [
      'true',
      'TRUE',
      'yes',
      '0x1',
      '11',
      '1.2.3.4/40',
      'a.b.c.d',
      '10.0.0.0/8/1',
      '10.0.0.0/',
    ])
      expect(() => parseTrustProxy(v)).toThrow(/TRUST_PROXY/);
    expect(parseTrustProxy('false')).toEqual({ kind: 'none' });
    expect(parseTrustProxy('10')).toEqual({ kind: 'hops', hops: 10 });
  });

  it('canonicalIp', () => {
    expect(canonicalIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(canonicalIp('[2001:db8::1]')).toBe('2001:db8::1');
    expect(canonicalIp('1.2.3.4:80')).toBeUndefined();
    expect(canonicalIp('')).toBeUndefined();
  });
});
