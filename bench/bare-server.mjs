// The ceiling of any Node.js service on this machine for the same SQL (`npm run bench -- --ceiling`):
// node:http and `pg` only, running the service's own send and verify statements
// (dist/otp/otp.statements.js) as named prepared statements on a pool of the service's default
// size, with the keyed hash the service computes. No framework, validation, authentication,
// throttling, logging, metrics or delivery worker. Answers the statuses the service answers
// (send 202, wrong code 400), so the benchmark's load generator drives it unchanged.
//
//   DATABASE_URL=postgresql://… PORT=0 node bench/bare-server.mjs   → prints {"port":N} when listening
import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { FIND_NEWEST, ISSUE, RECORD_ATTEMPT, RECORD_ATTEMPT_FAST } from '../dist/otp/otp.statements.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const key = Buffer.alloc(32, 7);
const mac = (id, phone, purpose, code) =>
  createHmac('sha256', key).update(`${id}|${phone}|${purpose}|${code}`).digest('base64url');
const TTL_MS = 300_000;
const HOUR_MS = 3_600_000;
// The service's settings under the benchmark (bench/run.mjs): limits at the validator's maximum,
// OTP_MAX_CONSECUTIVE_FAILURES and OTP_LOCKOUT_SECONDS at their defaults.
const LIMIT = 1_000_000;
const MAX_CONSECUTIVE_FAILURES = 20;
const LOCKOUT_MS = 86_400_000;

async function send({ phone }) {
  const id = randomUUID();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = new Date();
  const payload = JSON.stringify({ id, c: 'bare' });
  const values = [
    ...[id, phone, 'login', mac(id, phone, 'login', code), 'bare', 'bench', null, 5],
    ...[new Date(now.getTime() + TTL_MS), now, now, 'deliver-otp', payload],
    ...[phone, new Date(now.getTime() - HOUR_MS), LIMIT],
  ];
  const { rows } = await pool.query({ ...ISSUE, values });
  return rows[0].jobs === 1 ? [202, { id, status: 'pending' }] : [429, { error: { code: 'cooldown' } }];
}

async function verify({ phone, code }) {
  const now = new Date();
  const windowStart = new Date(now.getTime() - HOUR_MS);
  const { rows } = await pool.query({ ...FIND_NEWEST, values: [phone, 'login', 'bench'] });
  const row = rows[0];
  if (!row.id) return [400, { error: { code: 'not_found' } }];
  const candidate = Buffer.from(mac(row.id, phone, 'login', code), 'base64url');
  const stored = Buffer.from(row.codeHash, 'base64url');
  const matched = candidate.length === stored.length && timingSafeEqual(candidate, stored);
  const lockoutUntil = new Date(now.getTime() + LOCKOUT_MS);
  const values = [
    row.id,
    matched,
    now,
    'bench',
    phone,
    windowStart,
    LIMIT,
    MAX_CONSECUTIVE_FAILURES,
    lockoutUntil,
  ];
  // As the service: the fast path first, the full statement when it declines.
  const result =
    (await pool.query({ ...RECORD_ATTEMPT_FAST, values: values.slice(0, 8) })).rows[0] ??
    (await pool.query({ ...RECORD_ATTEMPT, values })).rows[0];
  if (result?.status === 'verified') return [200, { verified: true, id: row.id }];
  return [400, { error: { code: 'invalid_code' }, verified: false }];
}

const routes = { '/v1/otp/send': send, '/v1/otp/verify': verify };

const server = http.createServer((req, res) => {
  const handler = req.method === 'POST' ? routes[req.url] : undefined;
  const reply = (status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (!handler) {
    req.resume();
    return reply(req.url.startsWith('/health/') ? 200 : 404, {});
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    handler(JSON.parse(Buffer.concat(chunks).toString('utf8'))).then(
      ([status, body]) => reply(status, body),
      (error) => reply(500, { error: { code: 'internal', message: String(error?.message) } }),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
