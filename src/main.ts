import 'dotenv/config';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { configureApp, createAdapter } from './app.factory.js';
import { AppModule } from './app.module.js';
import { appConfig, configNamespaces, ConfigValidationError } from './config/index.js';

async function bootstrap(): Promise<void> {
  // Validate every namespace before Nest starts: a bad variable is one line on stderr and exit 1,
  // and nothing starts half-configured.
  try {
    configNamespaces.forEach((load) => load());
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const config = appConfig();
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(), createAdapter(config), {
    rawBody: true,
    bufferLogs: true,
    abortOnError: false,
  });
  configureApp(app);
  await app.listen({ port: config.port, host: config.host });
}

void bootstrap();
