// Load generation: autocannon runs (programmatic API) with distinct phones and client IPs per
// request, code-pool-driven verifies, and an even pace for the runs below saturation.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { accepted, delivered, rightPool, undelivered, wrongCodeOf, wrongPool } from './codes.mjs';
import { API_KEY, CONNECTIONS, MAX_ATTEMPTS, VERIFY_ROWS } from './settings.mjs';
import { now } from './util.mjs';

let phoneSeq = Math.floor(Math.random() * 4_000_000); // +23324xxxxxxx, never reused in a run
const nextPhone = () => {
  const local = String(phoneSeq++ % 10_000_000).padStart(7, '0');
  return { phone: `+23324${local}`, digits: `23324${local}` };
};
// The end user's IP as a calling backend forwards it (`clientIp`): distinct users, so the per-IP
// throttle buckets stay as small as in production instead of one 127.0.0.1 bucket for everything.
let ipSeq = 1;
const nextIp = () => {
  const n = ipSeq++ % 16_000_000;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
export function summarise(values) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
}

const HEADERS = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
const verifyRequest = (req, phone, code) => ({
  ...req,
  method: 'POST',
  path: '/v1/otp/verify',
  headers: HEADERS,
  body: JSON.stringify({ phone, code, clientIp: nextIp() }),
});

/**
 * autocannon setupRequest builders, one per request kind; `exhaust` is called when a verify finds
 * its code pool empty (the run stops).
 */
function requestBuilders(exhaust) {
  // Out of codes: stop the run; until autocannon stops (≤ 1 s) send cheap probes that are not counted.
  function filler(req, ctx) {
    exhaust();
    ctx.kind = 'filler';
    return { ...req, method: 'GET', path: '/health/live', headers: {}, body: undefined };
  }
  return {
    send(req, ctx) {
      const { phone, digits } = nextPhone();
      ctx.kind = 'send';
      ctx.digits = digits;
      return {
        ...req,
        method: 'POST',
        path: '/v1/otp/send',
        headers: HEADERS,
        body: JSON.stringify({ phone, clientIp: nextIp() }),
      };
    },
    'verify-right'(req, ctx) {
      const e = rightPool.pop();
      if (!e) return filler(req, ctx);
      ctx.kind = 'verify-right';
      return verifyRequest(req, e.phone, e.code);
    },
    // --ceiling: a wrong guess at one of the pending codes seeded like pgbench's (no code pool needed)
    'verify-seeded'(req, ctx) {
      ctx.kind = 'verify-wrong';
      const n = 8_000_000 + 1 + Math.floor(Math.random() * VERIFY_ROWS);
      return verifyRequest(req, `+23324${n}`, '000000');
    },
    'verify-wrong'(req, ctx) {
      // Fresh codes join the wrong-guess rotation as needed (~64 codes in rotation).
      if (wrongPool.length < 64 && rightPool.length > 0)
        wrongPool.push({ ...rightPool.pop(), left: MAX_ATTEMPTS - 1 });
      const e = wrongPool[wrongPool.length - 1];
      if (!e) return filler(req, ctx);
      if (--e.left <= 0) wrongPool.pop();
      else if (wrongPool.length > 1) wrongPool.unshift(wrongPool.pop()); // round robin
      ctx.kind = 'verify-wrong';
      return verifyRequest(req, e.phone, wrongCodeOf(e.code));
    },
  };
}

/**
 * autocannon's own rate limit (overallRate/connectionRate) sends each connection's per-second
 * budget as a burst at the start of every second, so "half rate" would be measured inside
 * saturation bursts. Instead each client's _doRequest is paced evenly (autocannon 8.0.0
 * internals, pinned): connection i sends at t0 + phase_i + k·interval, interval = CONNECTIONS/rate.
 * Each request's lag behind its slot goes to `lags`.
 */
function pacedClients(rate, lags, connections) {
  return (client) => {
    const send = client._doRequest;
    const interval = (1000 * connections) / rate;
    let next = performance.now() + Math.random() * interval;
    client._doRequest = function paced(...a) {
      if (this.destroyed) return;
      const t = performance.now();
      let slot = next;
      if (slot < t - 1000) slot = t; // never build up more than 1 s of catch-up
      next = slot + interval;
      if (slot <= t) {
        lags.push(t - slot);
        return send.apply(this, a);
      }
      setTimeout(() => {
        if (this.destroyed) return;
        lags.push(Math.max(0, performance.now() - slot));
        send.apply(this, a);
      }, slot - t);
    };
  };
}

/**
 * One autocannon run. `kinds` is the request sequence per connection (['send'], ['verify-right'],
 * ['send', 'verify-right'] …). `rate` undefined = saturation (closed loop, `connections` in flight);
 * otherwise an even pace of `rate` req/s over all connections (see pacedClients).
 */
export async function load({
  port,
  kinds,
  durationS,
  rate,
  instantProvider,
  onAccepted,
  connections = CONNECTIONS,
}) {
  const stats = { latencies: [], lags: [], status: {}, unexpected: 0, responses: 0, fillers: 0 };
  const expected = { send: 202, 'verify-right': 200, 'verify-wrong': 400 };
  let instance;
  let exhausted = false;
  const exhaust = () => {
    if (!exhausted) {
      exhausted = true;
      instance?.stop();
    }
  };
  const builders = requestBuilders(exhaust);

  const t0 = performance.now();
  instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: durationS,
    timeout: 10,
    setupClient: rate ? pacedClients(rate, stats.lags, connections) : undefined,
    requests: kinds.map((k) => ({ setupRequest: builders[k] })),
  });
  if (exhausted) instance.stop();
  instance.on('response', (client, status, _bytes, responseTime) => {
    const ctx = client.requestIterator.context;
    if (ctx.kind === 'filler') {
      stats.fillers++;
      return;
    }
    stats.responses++;
    stats.latencies.push(responseTime);
    const key = `${ctx.kind}:${status}`;
    stats.status[key] = (stats.status[key] ?? 0) + 1;
    if (status !== expected[ctx.kind]) stats.unexpected++;
    if (ctx.kind === 'send' && status === 202) {
      if (instantProvider) {
        accepted.set(ctx.digits, now());
        if (!delivered.has(ctx.digits)) undelivered.add(ctx.digits);
      }
      onAccepted?.(ctx.digits);
    }
  });
  const result = await instance;
  const elapsedS = Math.min((performance.now() - t0) / 1000, result.duration || Infinity);
  const lat = summarise(stats.latencies);
  return {
    rps: stats.responses / elapsedS,
    elapsedS,
    exhausted,
    lat,
    lag: rate ? summarise(stats.lags) : undefined,
    errors: result.errors + result.timeouts,
    unexpected: stats.unexpected,
    status: stats.status,
    responses: stats.responses,
  };
}
