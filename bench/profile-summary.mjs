#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): where the time goes, by package and by concern.
//   node bench/profile-summary.mjs <file.cpuprofile> [--top 25] [--from-ms N] [--to-ms N] [--us-per-req N]
// --from-ms/--to-ms: only the samples between these times since the profile's start (a phase,
// without start-up and warm-up).
// --us-per-req: the process's measured CPU per request under the profiled load; adds each concern's
// self time in µs per request (its share of that CPU). Write system calls are a concern of their own.
// Self time: the sample's leaf frame. Inclusive ("under"): every sample with a frame of that
// concern anywhere on its stack, counted once per concern (so concerns overlap and need not sum
// to 100 %). Percentages are of the non-idle samples.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N]\n');
  process.exit(2);
}
const option = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
};
const TOP = option('top') ?? 25;
const FROM_MS = option('from-ms') ?? 0;
const TO_MS = option('to-ms') ?? Infinity;
const US_PER_REQ = option('us-per-req');
/** Native leaf frames that are a write system call (to a socket or a file). */
const WRITE_CALLS = new Set(['writev', 'writeUtf8String', 'writeString', 'writeBuffer', 'writeLatin1String']);
const profile = JSON.parse(readFileSync(file, 'utf8'));

/** node_modules/<pkg>, dist/<dir>, node:<module>, or a V8 pseudo-frame. */
function packageOf(frame) {
  const url = frame.url ?? '';
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) {
    const m = url.slice(5).replace(/^internal\//, '');
    return `node:${m.split('/')[0].replace(/\.js$/, '')}`;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) {
    const rest = url.slice(dist + 6).split('/');
    return `app:${rest.length > 1 ? rest[0] : rest[0].replace(/\.js$/, '')}`;
  }
  return url.replace(/^file:\/\//, '');
}

const CONCERNS = [
  [
    'framework (Nest, Fastify, rxjs)',
    /^(@nestjs\/(core|common|platform-fastify)|fastify|@fastify\/.*|find-my-way|avvio|light-my-request|rxjs|reflect-metadata|fast-json-stringify|secure-json-parse|fast-querystring|process-warning|toad-cache)$/,
  ],
  ['validation (class-validator/-transformer)', /^(class-validator|class-transformer|validator)$/],
  ['phone parsing (libphonenumber-js)', /^libphonenumber-js$/],
  ['Prisma (client, adapter, runtime)', /^(@prisma\/.*|app:generated)$/],
  ['pg driver', /^(pg|pg-pool|pg-protocol|pg-types|pg-connection-string|postgres-.*|pgpass|split2)$/],
  ['queue (graphile-worker)', /^(graphile-worker|@graphile\/.*|cosmiconfig|graphile-config)$/],
  [
    'logging (pino)',
    /^(pino|pino-http|nestjs-pino|pino-std-serializers|sonic-boom|fast-redact|@pinojs\/.*|thread-stream|on-exit-leak-free|quick-format-unescaped|safe-stable-stringify|atomic-sleep)$/,
  ],
  ['metrics (prom-client)', /^(prom-client|tdigest|bintrees)$/],
  ['throttling', /^(@nestjs\/throttler|app:throttling|ioredis)$/],
  ['HTTP client to provider (axios)', /^(axios|follow-redirects|form-data|proxy-from-env)$/],
  ['app code (dist/)', /^app:/],
  ['crypto (node:crypto)', /^node:crypto$/],
  [
    'node net/http/streams',
    /^node:(net|http|_http.*|stream.*|streams|tcp_wrap|dns|timers|events|buffer|url|async_hooks)$/,
  ],
  ['garbage collection', /^\(garbage collector\)$/],
];
const concernOf = (pkg) => CONCERNS.find(([, re]) => re.test(pkg))?.[0];

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfByPkg = new Map();
const selfByFn = new Map();
const underConcern = new Map();
const underFn = new Map();
let total = 0;
let idle = 0;
const stackCache = new Map();
function stackInfo(id) {
  let info = stackCache.get(id);
  if (info) return info;
  const concerns = new Set();
  const fns = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur).callFrame;
    const c = concernOf(packageOf(f));
    if (c) concerns.add(c);
    if (f.url && f.functionName) fns.add(`${f.functionName} (${packageOf(f)})`);
  }
  info = { concerns, fns };
  stackCache.set(id, info);
  return info;
}

const deltas = profile.timeDeltas ?? [];
const selfConcern = new Map();
let at = 0; // ms since the profile's start
profile.samples.forEach((id, i) => {
  const dt = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000; // ms attributed to this sample
  at += (deltas[i] ?? 0) / 1000;
  if (at < FROM_MS || at > TO_MS) return;
  const node = byId.get(id);
  const f = node.callFrame;
  if (f.functionName === '(idle)') {
    idle += dt;
    return;
  }
  total += dt;
  const pkg = packageOf(f);
  selfByPkg.set(pkg, (selfByPkg.get(pkg) ?? 0) + dt);
  const concern =
    WRITE_CALLS.has(f.functionName) && !f.url
      ? 'system calls: writes (sockets, log lines)'
      : (concernOf(pkg) ?? `other: ${pkg}`);
  selfConcern.set(concern, (selfConcern.get(concern) ?? 0) + dt);
  const fn = `${f.functionName || '(anonymous)'} ${pkg}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  selfByFn.set(fn, (selfByFn.get(fn) ?? 0) + dt);
  const info = stackInfo(id);
  for (const c of info.concerns) underConcern.set(c, (underConcern.get(c) ?? 0) + dt);
  for (const c of info.fns) underFn.set(c, (underFn.get(c) ?? 0) + dt);
});

const pct = (ms) => `${((100 * ms) / total).toFixed(1).padStart(5)} %`;
const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
const out = [];
out.push(`profile ${file}${FROM_MS || TO_MS < Infinity ? ` (${FROM_MS}–${TO_MS} ms)` : ''}`);
out.push(
  `busy ${(total / 1000).toFixed(2)} s, idle ${(idle / 1000).toFixed(2)} s (${((100 * total) / (total + idle)).toFixed(0)} % of the main thread busy)`,
);
out.push('', 'Concern (inclusive: samples with such a frame anywhere on the stack)');
for (const [c, ms] of sorted(underConcern)) out.push(`  ${pct(ms)}  ${c}`);
out.push(
  '',
  `Self time by concern (leaf frame${US_PER_REQ ? `; µs/req: shares of the ${US_PER_REQ} µs of CPU per request measured` : ''})`,
);
// With --us-per-req, each concern's share of the measured CPU per request as well.
const perReq = (ms) => (US_PER_REQ ? `  ${((US_PER_REQ * ms) / total).toFixed(0).padStart(5)} µs/req` : '');
for (const [c, ms] of sorted(selfConcern).slice(0, TOP)) out.push(`  ${pct(ms)}${perReq(ms)}  ${c}`);
out.push('', `Self time by package (top ${TOP})`);
for (const [p, ms] of sorted(selfByPkg).slice(0, TOP)) out.push(`  ${pct(ms)}  ${p}`);
out.push('', `Self time by function (top ${TOP})`);
for (const [f, ms] of sorted(selfByFn).slice(0, TOP)) out.push(`  ${pct(ms)}  ${f}`);
out.push('', `Inclusive time by function (top ${TOP}, JS frames)`);
for (const [f, ms] of sorted(underFn).slice(0, TOP)) out.push(`  ${pct(ms)}  ${f}`);
process.stdout.write(`${out.join('\n')}\n`);
