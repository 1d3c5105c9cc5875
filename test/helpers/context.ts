import { Writable } from 'node:stream';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app.module.js';
import { FakeClock } from './fake-clock.js';
import { assertNoLeaks, rememberSecretsIn } from './log-leaks.js';

/**
 * The medium tier's world (immich's "medium" tests): the application's real module graph, services
 * with their real repositories on the run's migrated medium database (test/setup/global-setup.ts),
 * and no HTTP: no adapter, no listen, no controllers called. Tests take services out with `get` and
 * call their public methods. The delivery worker is off unless a test turns it on, so a test runs
 * the delivery it wants (DeliveryService.deliver) itself.
 */
export interface TestContext {
  context: INestApplicationContext;
  clock: FakeClock;
  /** Every log line the services wrote (JSON); scanned for secrets by close(). */
  logs: string[];
  get<T>(type: Type<T> | string | symbol): T;
  close(): Promise<void>;
}

// One pino stream per file (nestjs-pino keeps its first destination per process), routed to the
// log array of the context started last, as test/helpers/app.ts does for apps.
let currentLogs: string[] = [];
const sharedLogStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    currentLogs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

export async function startContext(
  options: { env?: Record<string, string | undefined>; logLevel?: string } = {},
): Promise<TestContext> {
  const url = process.env.TEST_MEDIUM_DATABASE_URL;
  if (!url) throw new Error('TEST_MEDIUM_DATABASE_URL is not set: run through the medium jest project');
  rememberSecretsIn(options.env ?? {});
  const saved = { ...process.env };
  Object.assign(
    process.env,
    { LOG_LEVEL: options.logLevel ?? 'debug', DATABASE_URL: url, DELIVERY_WORKER_ENABLED: 'false' },
    options.env,
  );
  for (const [k, v] of Object.entries(options.env ?? {})) if (v === undefined) delete process.env[k];
  const logs: string[] = [];
  currentLogs = logs;
  const clock = new FakeClock();
  let context: INestApplicationContext;
  try {
    context = await NestFactory.createApplicationContext(
      AppModule.forRoot({ logStream: sharedLogStream, clock }),
      { bufferLogs: true, abortOnError: false },
    );
    await context.init();
  } finally {
    process.env = saved;
  }
  return {
    context,
    clock,
    logs,
    get: (type) => context.get(type as never, { strict: false }),
    async close() {
      await context.close();
      assertNoLeaks(logs, 'logs of a medium-tier context');
    },
  };
}
