import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FakeServer, startFakeServer } from '../../test/fakes/fake-server.js';
import { providerFailure } from '../../test/fakes/spec-helpers.js';
import {
  errorCodeOf,
  kindOfStatus,
  parseJson,
  parseRetryAfter,
  ProviderHttpClient,
  safeCode,
  toProviderError,
} from './http.js';
import { ProviderError } from './provider.error.js';

describe('toProviderError', () => {
  it.each([
    [{ code: 'ECONNABORTED', message: 'timeout of 300ms exceeded' }, 'retryable', 'timeout'],
    [{ code: 'ETIMEDOUT', message: 'x' }, 'retryable', 'timeout'],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'retryable', 'connection_reset'],
    [{ message: 'socket hang up' }, 'retryable', 'connection_reset'],
    [{ code: 'ECONNREFUSED', message: 'x' }, 'retryable', 'connection_refused'],
    [{ code: 'ERR_NETWORK', message: 'x', cause: { code: 'EAI_AGAIN' } }, 'retryable', 'dns_error'],
    [
      { code: 'ERR_BAD_RESPONSE', message: 'maxContentLength size of 262144 exceeded' },
      'retryable',
      'invalid_response',
    ],
    [{ code: 'HPE_INVALID_CONSTANT', message: 'Parse Error' }, 'retryable', 'invalid_response'],
    [{ code: 'ERR_INVALID_URL', message: 'Invalid URL' }, 'configuration', 'invalid_url'],
    [{ message: 'something else' }, 'retryable', 'network_error'],
  ])('maps %j to %s %s', (raw, kind, errorCode) => {
    const err = Object.assign(new Error(raw.message), raw);

    const sut = toProviderError('dnz', err);

    expect([sut.provider, sut.kind, sut.errorCode]).toEqual(['dnz', kind, errorCode]);
  });

  it('prefers what the client knows: its own deadline, then the caller abort', () => {
    const err = new Error('canceled');

    expect(toProviderError('sinch', err, { timedOut: true }).errorCode).toBe('timeout');
    expect(toProviderError('sinch', err, { aborted: true }).errorCode).toBe('aborted');
  });

  it('keeps a ProviderError as it is and never carries the original error', () => {
    const original = new ProviderError('enosend', 'permanent', 'x', 'x');
    const leaky = Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET', config: { data: 'secret' } });

    expect(toProviderError('enosend', original)).toBe(original);
    expect(JSON.stringify(toProviderError('enosend', leaky))).not.toContain('secret');
    expect(toProviderError('enosend', leaky)).not.toHaveProperty('cause');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it.each([
    ['7', 7000],
    ['1.5', 1500],
    ['0', 0],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['999999', 3_600_000],
    ['soon', undefined],
    [undefined, undefined],
  ])('reads %s as %s ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('body helpers', () => {
  it('parses only complete JSON objects or arrays', () => {
    expect(parseJson(' {"a":1} ')).toEqual({ a: 1 });
    expect(parseJson('[1]')).toEqual([1]);
    expect(parseJson('{"a":')).toBeUndefined();
    expect(parseJson('<html></html>')).toBeUndefined();
    expect(parseJson('"text"')).toBeUndefined();
    expect(parseJson('')).toBeUndefined();
  });

  it('reads error codes of the usual shapes, never free text', () => {
    expect(errorCodeOf({ error: 'invalid_number' })).toBe('invalid_number');
    expect(errorCodeOf({ error: { code: 400, status: 'INVALID_ARGUMENT' } })).toBe('INVALID_ARGUMENT');
    expect(errorCodeOf({ error: { code: 429 } })).toBe('429');
    expect(errorCodeOf({ code: 'rate_limited' })).toBe('rate_limited');
    expect(errorCodeOf({ error: 'Number +233200000000 is not on WhatsApp' })).toBeUndefined();
    expect(errorCodeOf('invalid_number')).toBeUndefined();
    expect(safeCode('a'.repeat(65))).toBeUndefined();
    // A provider echoing the number as its "code" (review finding): never stored or logged.
    expect(errorCodeOf({ error: '233241234567' })).toBeUndefined();
    expect(errorCodeOf({ error: { code: 233241234567 } })).toBeUndefined();
    expect(errorCodeOf({ error: 'number_233241234567_invalid' })).toBeUndefined();
    expect(errorCodeOf({ error: { code: 131026 } })).toBe('131026');
  });

  it.each([
    [301, 'configuration'],
    [400, 'permanent'],
    [401, 'configuration'],
    [403, 'configuration'],
    [404, 'permanent'],
    [408, 'retryable'],
    [429, 'rate_limited'],
    [500, 'retryable'],
    [503, 'retryable'],
  ])('reads status %i as %s by default', (status, kind) => {
    expect(kindOfStatus(status)).toBe(kind);
  });
});

describe('ProviderHttpClient', () => {
  let sut: ProviderHttpClient;
  afterEach(() => sut.close());

  describe('against a fake', () => {
    let fake: FakeServer;
    let answer: { status: number; body?: unknown; headers?: Record<string, string> };
    beforeAll(async () => {
      fake = await startFakeServer(({ reply }) => reply(answer));
    });
    afterAll(() => fake.close());
    beforeEach(() => {
      fake.clearRequests();
      sut = new ProviderHttpClient('dnz', 300);
    });

    it('returns statuses instead of throwing, with lower-case headers, raw text and parsed JSON', async () => {
      answer = { status: 503, body: { error: 'busy' }, headers: { 'Retry-After': '3' } };

      const res = await sut.request({ method: 'POST', url: `${fake.url}/x`, data: { a: 1 } });

      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('3');
      expect(res.text).toBe('{"error":"busy"}');
      expect(res.json).toEqual({ error: 'busy' });
      expect(fake.requests[0].json).toEqual({ a: 1 });
      expect(fake.requests[0].headers['user-agent']).toBe('whatsapp-otp-service');
    });

    it('does not follow redirects (a key must not travel to another host)', async () => {
      answer = { status: 302, headers: { location: `${fake.url}/elsewhere` } };

      const res = await sut.request({ method: 'GET', url: `${fake.url}/x` });

      expect(res.status).toBe(302);
      expect(fake.requests.map((r) => r.path)).toEqual(['/x']);
    });

    it('refuses a huge body as an invalid response', async () => {
      answer = { status: 200, body: 'x'.repeat(300 * 1024) };

      const error = await providerFailure(sut.request({ method: 'GET', url: fake.url }));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'invalid_response']);
    });

    it('uses a shorter per-call deadline, never a longer one', async () => {
      answer = { status: 200, body: {} };
      const slow = await startFakeServer(({ play }) => play({ delayMs: 250 }, () => answer));
      try {
        const short = await providerFailure(sut.request({ method: 'GET', url: slow.url, timeoutMs: 50 }));
        const started = Date.now();
        const long = await providerFailure(
          sut.request({ method: 'GET', url: `${slow.url}/`, timeoutMs: 100 }),
        );

        expect([short.errorCode, long.errorCode]).toEqual(['timeout', 'timeout']);
        expect(Date.now() - started).toBeLessThan(200);
      } finally {
        await slow.close();
      }
    });
  });

  it('bounds the whole exchange, even when the server keeps the socket busy', async () => {
    // Headers at once, then a byte every 50 ms forever: a socket idle timeout would never fire.
    const timers: NodeJS.Timeout[] = [];
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      timers.push(setInterval(() => res.write(' '), 50));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sut = new ProviderHttpClient('enosend', 300);
    const started = Date.now();
    try {
      const error = await providerFailure(
        sut.request({ method: 'GET', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }),
      );

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'timeout']);
      expect(Date.now() - started).toBeLessThan(800);
    } finally {
      timers.forEach(clearInterval);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
