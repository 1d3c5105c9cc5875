import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FakeServer, startFakeServer } from '../../../test/fakes/fake-server.js';
import { providerFailure } from '../../../test/fakes/spec-helpers.js';
import { ProviderHttpClient } from './client.js';

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
