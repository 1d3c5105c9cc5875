import { Writable } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { configureApp, createAdapter } from '../../src/app.factory.js';
import { AppModule } from '../../src/app.module.js';
import { Clock } from '../../src/common/clock/clock.js';
import { appConfig } from '../../src/config/index.js';
import { FakeClock } from './fake-clock.js';
import { assertNoLeaks, rememberSecretsIn } from './log-leaks.js';

export interface HttpResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  clock: FakeClock;
  /** Every log line the app wrote (JSON); scanned for secrets by close() (test/helpers/log-leaks.ts). */
  logs: string[];
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      raw?: string | Buffer;
      headers?: Record<string, string>;
      auth?: string | false;
    },
  ): Promise<HttpResponse<T>>;
  close(): Promise<void>;
}

export const API_KEY = 'acme-test-key-0123456789';

// nestjs-pino keeps one pino-http instance per process (in production there is one app per
// process), so every app a test file starts writes to the stream of the first. One stream per
// file, routed to the log array of the app started last, keeps each app's logs capturable.
let currentLogs: string[] = [];
const sharedLogStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    currentLogs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

/**
 * Starts the real application (same adapter, filters and pipes as main.ts) on a loopback port,
 * with a controllable clock and its logs captured. `env` overrides apply while the app is created.
 */
export async function startApp(
  options: { env?: Record<string, string | undefined>; logLevel?: string } = {},
): Promise<TestApp> {
  rememberSecretsIn(options.env ?? {});
  const saved = { ...process.env };
  Object.assign(process.env, { LOG_LEVEL: options.logLevel ?? 'debug' }, options.env);
  for (const [k, v] of Object.entries(options.env ?? {})) if (v === undefined) delete process.env[k];
  const logs: string[] = [];
  currentLogs = logs;
  const clock = new FakeClock();
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot({ logStream: sharedLogStream, clock }),
      createAdapter(appConfig()),
      { rawBody: true, bufferLogs: true, abortOnError: false },
    );
    configureApp(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
  } finally {
    process.env = saved;
  }
  const url = await app.getUrl();
  return {
    app,
    url: url.replace('[::1]', '127.0.0.1'),
    clock,
    logs,
    async request(method, path, { body, raw, headers = {}, auth } = {}) {
      const h: Record<string, string> = { ...headers };
      if (auth !== false) h.authorization ??= `Bearer ${auth ?? API_KEY}`;
      let payload: string | Buffer | undefined = raw;
      if (body !== undefined) {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${path}`, { method, headers: h, body: payload });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* keep text */
      }
      return { status: res.status, headers: res.headers, body: parsed as never, text };
    },
    // Every app's logs are scanned when it closes: a leaked code, key, Bearer value or phone
    // number fails the test file that closed it.
    async close() {
      await app.close();
      assertNoLeaks(logs, `logs of the app at ${url}`);
    },
  };
}

export { Clock };
