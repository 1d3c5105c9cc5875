// A local DNZ WhatsApp OTP engine for the benchmark: `POST /api/send-otp` with JSON
// `{ apiKey, number, message }` → 202 `{ "accepted": true, "jobId": "…" }` at once ("instant"), or
// never answered at all ("hang"). It records, per number, the wall-clock receive time and the code
// found in the message, so the benchmark can verify right codes and measure acceptance → provider
// latency. Control endpoints (same port, 127.0.0.1 only):
//   GET  /_stats                → { mode, received, hung, badRequests }
//   POST /_mode  {"mode":"instant"|"hang"}
//   GET  /_received?from=N      → [[number, receivedAtMs, code], …] from index N
//   POST /_release              → destroys hung sockets (their calls time out on the service side anyway)
// Usage: node bench/fake-dnz.mjs [--port 0] [--api-key KEY] [--standalone]; prints `{"port":…}` on stdout when listening.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const port = Number(arg('port', '0'));
const apiKey = arg('api-key', 'bench-dnz-key');
const now = () => performance.timeOrigin + performance.now();

let mode = 'instant';
let jobSeq = 0;
let badRequests = 0;
let hangReceived = 0;
/** Flat log of deliveries: [number, receivedAtMs, code]. */
const received = [];
const hung = new Set();

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) reject(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/api/send-otp') {
      if (mode === 'hang') {
        // Never answer; remember the socket so it can be released at the end.
        hung.add(res);
        res.on('close', () => hung.delete(res));
        hangReceived++;
        return;
      }
      const body = JSON.parse(await readBody(req));
      const t = now();
      if (body.apiKey !== apiKey || typeof body.number !== 'string' || typeof body.message !== 'string') {
        badRequests++;
        return json(res, 400, {
          error: 'missing_fields',
          message: 'apiKey, number and message are required',
        });
      }
      const code = /(\d{6,10})/.exec(body.message)?.[1] ?? null;
      received.push([body.number.replace(/\D/g, ''), t, code]);
      return json(res, 202, { accepted: true, jobId: `bench-${++jobSeq}` });
    }
    if (req.method === 'GET' && req.url === '/_stats') {
      return json(res, 200, { mode, received: received.length, hangReceived, hung: hung.size, badRequests });
    }
    if (req.method === 'POST' && req.url === '/_mode') {
      const body = JSON.parse(await readBody(req));
      if (body.mode !== 'instant' && body.mode !== 'hang') return json(res, 400, { error: 'mode' });
      mode = body.mode;
      return json(res, 200, { mode });
    }
    if (req.method === 'GET' && req.url.startsWith('/_received')) {
      const from = Number(new URL(req.url, 'http://x').searchParams.get('from') ?? '0') || 0;
      return json(res, 200, received.slice(from));
    }
    if (req.method === 'POST' && req.url === '/_release') {
      const n = hung.size;
      for (const r of hung) r.destroy();
      hung.clear();
      return json(res, 200, { released: n });
    }
    json(res, 404, { error: 'not_found' });
  } catch (error) {
    badRequests++;
    if (!res.headersSent) json(res, 400, { error: 'bad_request', message: String(error?.message ?? error) });
  }
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
const stop = () => {
  for (const r of hung) r.destroy();
  server.close();
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the benchmark: exit when the parent goes away (unless --standalone).
if (!process.argv.includes('--standalone')) {
  const parent = process.ppid;
  process.on('disconnect', stop);
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 500).unref();
}
