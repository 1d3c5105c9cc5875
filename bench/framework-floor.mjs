#!/usr/bin/env node
// What the framework alone costs per request (issue 18): the same wrong-code answer (400, the
// contract's JSON body) from four servers, each a rung up from the last, with no database, phone
// parsing, throttling, logging or metrics:
//   node:http     parse the JSON body, answer
//   fastify       a Fastify route (JSON body parser, serialisation, hooks)
//   nest          a Nest controller on FastifyAdapter (@Body, @HttpCode): router, execution context
//   nest+service  the service's own request pipeline pieces: ApiKeyGuard (key digest, content type),
//                 the global ValidationPipe on VerifyOtpDto, a thrown DomainError('invalid_code')
//                 answered by AllExceptionsFilter (the service's path for a wrong code)
// Each runs in its own process (the image's heap cap), loaded by autocannon from this process, at
// saturation (16 connections, closed loop) and paced at BENCH_FLOOR_RATE req/s (default 1,000,
// about the service's own verify rate, where caches are colder than at saturation). The figure is
// the server process's CPU (/proc, user + system) per request; rounds alternate the order.
//
//   npm run build && node bench/framework-floor.mjs [--rounds 3] [--seconds 5]
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { readProc } from './lib/machine.mjs';

const RUNGS = ['node:http', 'fastify', 'nest', 'nest+service'];
const KEY = 'floor-bench-key-0123456789abcdef';
const ANSWER = { verified: false, statusCode: 400, code: 'invalid_code', message: 'The code is wrong' };

if (process.env.FLOOR_RUNG) await serve(process.env.FLOOR_RUNG);
else await main();

async function serve(rung) {
  const listening = (port) => process.stdout.write(`${JSON.stringify({ port })}\n`);
  if (rung === 'node:http') {
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        JSON.parse(body);
        const out = JSON.stringify(ANSWER);
        res.writeHead(400, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(out),
        });
        res.end(out);
      });
    });
    server.listen(0, '127.0.0.1', () => listening(server.address().port));
    return;
  }
  if (rung === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.post('/v1/otp/verify', async (_req, reply) => reply.code(400).send(ANSWER));
    await app.listen({ port: 0, host: '127.0.0.1' });
    listening(app.server.address().port);
    return;
  }
  await import('reflect-metadata');
  const common = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const service = rung === 'nest+service';
  const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
  const { DomainError, AllExceptionsFilter, createValidationPipe } = await dist('common/index.js');
  const { VerifyOtpDto } = await dist('otp/dto/verify-otp.dto.js');
  const { ApiKeyGuard } = await dist('auth/index.js');
  // Decorators applied by hand: this file is plain JavaScript.
  class VerifyController {
    verify() {
      if (service) throw new DomainError('invalid_code');
      return ANSWER;
    }
  }
  const proto = VerifyController.prototype;
  const method = Object.getOwnPropertyDescriptor(proto, 'verify');
  Reflect.defineMetadata('design:paramtypes', [service ? VerifyOtpDto : Object], proto, 'verify');
  common.Body()(proto, 'verify', 0);
  common.Post('verify')(proto, 'verify', method);
  common.HttpCode(400)(proto, 'verify', method);
  common.Controller('v1/otp')(VerifyController);
  class FloorModule {}
  common.Module({ controllers: [VerifyController] })(FloorModule);
  const app = await NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false });
  if (service) {
    app.useGlobalGuards(new ApiKeyGuard({ clients: [{ name: 'floor', secret: KEY }] }));
    app.useGlobalPipes(createValidationPipe());
    app.useGlobalFilters(new AllExceptionsFilter());
  }
  await app.listen(0, '127.0.0.1');
  listening(app.getHttpServer().address().port);
}

async function main() {
  const { default: autocannon } = await import('autocannon');
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const rounds = arg('rounds', 3);
  const seconds = arg('seconds', 5);
  const rate = Number(process.env.BENCH_FLOOR_RATE ?? 1000);
  const body = JSON.stringify({ phone: '+233241234567', code: '000000', clientIp: '203.0.113.9' });
  const results = Object.fromEntries(RUNGS.map((r) => [r, { sat: [], paced: [], rps: [] }]));

  /** The load every rung gets: 16 connections of wrong-code verifies. */
  const loadOf = (port, extra) => ({
    url: `http://127.0.0.1:${port}/v1/otp/verify`,
    method: 'POST',
    connections: 16,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body,
    duration: seconds,
    ...extra,
  });
  const measure = async (pid, port, extra) => {
    const t0 = readProc(pid).cpuTicks;
    const out = await autocannon(loadOf(port, extra));
    const ticks = readProc(pid).cpuTicks - t0;
    if (out.non2xx !== out.requests.total || out.errors > 0) {
      throw new Error(
        `unexpected answers: ${out.non2xx} non-2xx of ${out.requests.total}, ${out.errors} errors`,
      );
    }
    return { usPerReq: (ticks * 10_000) / out.requests.total, rps: out.requests.total / seconds };
  };

  for (let round = 0; round < rounds; round++) {
    for (const rung of round % 2 ? [...RUNGS].reverse() : RUNGS) {
      const child = spawn(process.execPath, ['--max-old-space-size=256', fileURLToPath(import.meta.url)], {
        env: { ...process.env, FLOOR_RUNG: rung, NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const port = await new Promise((resolve, reject) => {
        child.stdout.once('data', (d) => resolve(JSON.parse(String(d)).port));
        child.once('exit', (code) => reject(new Error(`${rung} exited (${code})`)));
      });
      try {
        // Warm-up: JIT and connection set-up, not recorded.
        await autocannon(loadOf(port, { duration: 2 }));
        const sat = await measure(child.pid, port, {});
        const paced = await measure(child.pid, port, { overallRate: rate });
        results[rung].sat.push(sat.usPerReq);
        results[rung].rps.push(sat.rps);
        results[rung].paced.push(paced.usPerReq);
        console.log(
          `round ${round + 1} ${rung.padEnd(12)} saturation ${sat.rps.toFixed(0)} req/s ${sat.usPerReq.toFixed(0)} µs/req; at ${rate} req/s ${paced.usPerReq.toFixed(0)} µs/req`,
        );
      } finally {
        child.kill();
      }
    }
  }

  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const base = { sat: median(results['node:http'].sat), paced: median(results['node:http'].paced) };
  console.log(`\nMedians of ${rounds} rounds (server CPU per request; + = above node:http):\n`);
  console.log(`| server | saturation req/s | µs/req at saturation | µs/req at ${rate} req/s |`);
  console.log('|---|---|---|---|');
  for (const rung of RUNGS) {
    const r = results[rung];
    const sat = median(r.sat);
    const paced = median(r.paced);
    const plus = (v, b) =>
      rung === 'node:http' ? '' : ` (${v >= b ? '+' : '−'}${Math.abs(v - b).toFixed(0)})`;
    console.log(
      `| ${rung} | ${median(r.rps).toFixed(0)} | ${sat.toFixed(0)}${plus(sat, base.sat)} | ${paced.toFixed(0)}${plus(paced, base.paced)} |`,
    );
  }
}
