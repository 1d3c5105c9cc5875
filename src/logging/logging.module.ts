import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { requestIdOf } from '../common/index.js';
import { appConfig, type AppConfig } from '../config/index.js';
import { CENSOR, censorSecrets, REDACT_PATHS } from './redaction.js';

@Module({})
export class LoggingModule {
  static forRoot(stream?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [appConfig.KEY],
          useFactory: (config: AppConfig) => {
            const options: PinoHttpOptions = {
              level: config.logLevel,
              base: { service: 'whatsapp-otp-service' },
              // Exact paths through pino's redaction, secret keys one level down in one pass
              // (redaction.ts): together what the wildcard paths did, at a seventh of the cost.
              redact: { paths: REDACT_PATHS, censor: CENSOR },
              formatters: { log: censorSecrets },
              // A request id on every line: the caller's X-Request-Id when sane, else a new one.
              genReqId: (req: IncomingMessage) => requestIdOf(req),
              serializers: {
                req: (req: { id: string; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  url: req.url?.split('?')[0],
                }),
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              },
              customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
                err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
              // The one access line per request is written by app.factory.ts's onResponse hook: it
              // knows the route pattern and the calling client, and sees requests that never reach
              // Nest's middleware (404s, 414s, 415s from the body parser).
              autoLogging: false,
            };
            // Standard output stays synchronous: Nest ends a SIGTERM shutdown by re-raising the
            // signal, which skips the 'exit' event an asynchronous destination flushes on, and an
            // out-of-memory abort flushes nothing; the last lines are the ones an operator needs.
            return { pinoHttp: stream ? [options, stream] : options };
          },
        }),
      ],
    };
  }
}
