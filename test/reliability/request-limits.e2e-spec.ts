import net from 'node:net';
import { API_KEY, startApp, type TestApp } from '../helpers/app.js';
import { uniquePhone, withDb } from '../helpers/db.js';

// The body size cap with a Content-Length is in test/foundation.e2e-spec.ts ("an oversized body
// is 413 payload_too_large"); these are the limits a raw socket is needed for.

const REQUEST_TIMEOUT_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Exchange {
  /** Everything the server wrote before closing. */
  response: string;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number;
  /** Bytes of the request the client managed to write before the server closed. */
  written: number;
}

/**
 * Connects to the app and writes `chunks` one by one, `gapMs` apart; returns what came back once
 * the server closes the connection (or `waitMs` passes, then the client gives up).
 */
function exchange(
  url: string,
  chunks: (string | Buffer)[],
  { gapMs = 0, waitMs = 15_000 } = {},
): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    let written = 0;
    let closed = false;
    const giveUp = setTimeout(() => {
      closed = true;
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${waitMs} ms`));
    }, waitMs);
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(giveUp);
      resolve({
        response: Buffer.concat(received).toString('latin1'),
        closedAfterMs: Date.now() - started,
        written,
      });
    });
    const writeChunks = async () => {
      for (const chunk of chunks) {
        if (closed) return;
        socket.write(chunk);
        written += Buffer.byteLength(chunk);
        if (gapMs) await sleep(gapMs);
      }
    };
    // A failure while writing fails the exchange instead of going unhandled.
    socket.on('connect', () => {
      writeChunks().catch((error: unknown) => {
        clearTimeout(giveUp);
        socket.destroy();
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);

describe('reliability: request limits (header size, streamed body size, slow clients)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
  });
  afterAll(() => t?.close());

  const stillUp = async () => {
    expect((await t.request('GET', '/health/live', { auth: false })).status).toBe(200);
  };
  const storedFor = (phone: string) =>
    withDb(async (c) => (await c.query('SELECT 1 FROM one_time_codes WHERE phone = $1', [phone])).rowCount);

  it('an oversized header (20 KB) is 431, the connection is closed, and the server stays up', async () => {
    const res = await exchange(t.url, [
      `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    ]);
    expect(statusOf(res.response)).toBe(431);
    expect(res.response).toContain('{"statusCode":431,"code":"headers_too_large"');
    await stillUp();
  });

  it('a body over the cap streamed in chunks without a Content-Length is 413 payload_too_large', async () => {
    const phone = uniquePhone();
    const body = JSON.stringify({ phone, pad: 'x'.repeat(40_000) });
    const head =
      `POST /v1/otp/send HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n` +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
    const chunks = [head];
    for (let i = 0; i < body.length; i += 4096) {
      const part = body.slice(i, i + 4096);
      chunks.push(`${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
    }
    chunks.push('0\r\n\r\n');
    const res = await exchange(t.url, chunks);
    expect(statusOf(res.response)).toBe(413);
    expect(res.response).toContain('"code":"payload_too_large"');
    expect(await storedFor(phone)).toBe(0);
    await stillUp();
  });

  it('a request trickled byte by byte is cut off by the request timeout, and never reaches the handler', async () => {
    const phone = uniquePhone();
    const body = JSON.stringify({ phone });
    const request =
      `POST /v1/otp/send HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    // One byte every 100 ms: the whole request would take ~15 s; each byte keeps the socket busy,
    // so only a timeout on the whole request (not an idle timeout) can end it.
    const gapMs = 100;
    const res = await exchange(t.url, [...request], { gapMs, waitMs: 15_000 });
    expect(res.written).toBeLessThan(request.length);
    // Cut off after the request timeout, and soon after it (not at the end of the trickle).
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(res.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2500);
    expect(statusOf(res.response)).toBe(408);
    expect(res.response).toContain('{"statusCode":408,"code":"request_timeout"');
    expect(await storedFor(phone)).toBe(0);
    await stillUp();
  });

  it('a connection that sends half a request and then nothing is closed after the timeout', async () => {
    const res = await exchange(t.url, ['POST /v1/otp/send HTTP/1.1\r\nHost: x\r\n'], { waitMs: 15_000 });
    expect(res.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(res.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2500);
    await stillUp();
  });
});
