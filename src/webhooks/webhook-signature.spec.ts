import { createHmac } from 'node:crypto';
import { enosendSignature, matchesAny, safeEqual, sinchSignature } from './webhook-signature.js';

// Sinch's published test vector (sinch-sdk-node tests; shared/docs/PROVIDERS.md).
const VECTOR = {
  secret: 'foo_secret1234',
  nonce: '01FJA8B4A7BM43YGWSG9GBV067',
  timestamp: '1634579353',
  body: '{"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z","project_id":"e2df3a34-a71b-4448-9db5-a8d2baad28e4","contact_create_notification":{"contact":{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS","identity":"48123456789","app_id":""}],"display_name":"New Test Contact","email":"new.contact@email.com","external_id":"","metadata":"","language":"EN_US"}},"message_metadata":""}',
  signature: '6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=',
};

describe('sinchSignature', () => {
  it("reproduces Sinch's published test vector", () => {
    const sut = sinchSignature(
      VECTOR.secret,
      Buffer.from(VECTOR.body, 'utf8'),
      VECTOR.nonce,
      VECTOR.timestamp,
    );
    expect(sut).toBe(VECTOR.signature);
  });

  it('changes with any byte of the body, the nonce, the timestamp or the secret', () => {
    const body = Buffer.from(VECTOR.body, 'utf8');
    const variants = [
      sinchSignature(
        VECTOR.secret,
        Buffer.from(VECTOR.body.replace('New Test', 'New Tesu'), 'utf8'),
        VECTOR.nonce,
        VECTOR.timestamp,
      ),
      sinchSignature(VECTOR.secret, body, `${VECTOR.nonce}X`, VECTOR.timestamp),
      sinchSignature(VECTOR.secret, body, VECTOR.nonce, '1634579354'),
      sinchSignature('foo_secret1235', body, VECTOR.nonce, VECTOR.timestamp),
    ];
    for (const v of variants) expect(v).not.toBe(VECTOR.signature);
  });

  it('signs the exact bytes: the same JSON re-serialised does not verify', () => {
    const raw = Buffer.from('{ "text": "caf\\u00e9 \u{1F600}" }', 'utf8');
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))), 'utf8');
    expect(sinchSignature('s', raw, 'n', '1')).not.toBe(sinchSignature('s', reserialised, 'n', '1'));
  });
});

describe('enosendSignature', () => {
  it('is the lowercase hex HMAC-SHA256 of the raw body', () => {
    const body = Buffer.from('{"event":"instance.state","state":"connected"}', 'utf8');
    const sut = enosendSignature('eno-secret', body);
    expect(sut).toBe(createHmac('sha256', 'eno-secret').update(body).digest('hex'));
    expect(sut).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('safeEqual', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'ab', false],
    ['', '', true],
    ['abc', '', false],
  ])('%j vs %j → %s', (a, b, expected) => {
    expect(safeEqual(a, b)).toBe(expected);
  });
});

describe('matchesAny', () => {
  const sign = (secret: string) => `sig-of-${secret}`;

  it('passes under any secret of a rotation list and tries every secret', () => {
    const tried: string[] = [];
    const sut = matchesAny(['new', 'old'], 'sig-of-new', (s) => (tried.push(s), sign(s)));
    expect(sut).toBe(true);
    expect(tried).toEqual(['new', 'old']);
    expect(matchesAny(['new', 'old'], 'sig-of-old', sign)).toBe(true);
  });

  it('fails for other secrets and for an empty list', () => {
    expect(matchesAny(['new', 'old'], 'sig-of-older', sign)).toBe(false);
    expect(matchesAny([], 'sig-of-new', sign)).toBe(false);
  });
});
