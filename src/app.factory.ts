import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { answerMethodNotAllowed } from './common/http/method-not-allowed.js';
import { requestIdOf } from './common/http/request-id.js';
import { createValidationPipe } from './common/http/validation.pipe.js';
import type { AppConfig } from './config/index.js';
import { ShutdownService } from './lifecycle/shutdown.service.js';
import { MetricsService } from './metrics/metrics.service.js';
import { setupOpenApi } from './openapi/openapi.js';
import { WEBHOOKS_PATH } from './webhooks/webhooks.controller.js';

const WEBHOOKS_PREFIX = `/${WEBHOOKS_PATH}/`;

/**
 * The HTTP adapter: Fastify, with the limits that keep hostile clients cheap. Shared by main.ts
 * and the e2e tests so both run the same server.
 */
export function createAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // Only with TRUST_PROXY=true is the left-most X-Forwarded-For entry taken as the client IP.
    trustProxy: config.trustProxy,
    // A request trickled byte by byte is cut off; idle keep-alive sockets are closed.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    // Node enforces requestTimeout only when it sweeps its connections, every 30 s by default: a
    // trickled request would hold its socket for up to 30 s past the timeout. Sweep every second.
    http: { connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs) },
    keepAliveTimeout: 65_000,
    maxParamLength: 128,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    logger: false,
    genReqId: (req: IncomingMessage) => requestIdOf(req),
    clientErrorHandler,
  });
}

/**
 * Errors Node's HTTP parser raises before a request exists (a request that did not arrive within
 * the request timeout, headers over the size limit, bytes that are not HTTP): answered with the
 * contract's error body, like every other error, then the socket is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'request_timeout', 'The request did not arrive within the time allowed']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are too large']
        : [400, 'Bad Request', 'invalid_request', 'Malformed HTTP request'];
  const body = JSON.stringify({ statusCode: status, code, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Everything applied to the application instance after creation, in main.ts and in tests alike. */
export function configureApp(app: NestFastifyApplication): NestFastifyApplication {
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  // Before any route exists: it records each route's methods (405 for the others).
  answerMethodNotAllowed(fastify);
  // JSON only: Fastify's built-in text/plain parser would let a non-JSON body reach validation.
  fastify.removeContentTypeParser('text/plain');
  const shutdown = app.get(ShutdownService);
  fastify.addHook('onSend', (request, reply, _payload, done) => {
    void reply.header('x-request-id', request.id);
    // While draining, close each keep-alive socket after its response, or server.close() would
    // wait for clients that keep them open.
    if (shutdown.isDraining) void reply.header('connection', 'close');
    done();
  });
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (request, reply, done) => {
    // The matched route pattern (/v1/otp/:id), never the raw URL: ids and probes' junk paths
    // would give the histogram unbounded label values.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration
      .labels(request.method, route, String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    // A webhook body over the limit is refused by the body parser, before the webhook's own checks
    // (WebhookRejects) run: counted here with the other webhook rejects.
    if (reply.statusCode === 413 && route.startsWith(WEBHOOKS_PREFIX)) {
      metrics.webhookRejects.inc({ provider: route.slice(WEBHOOKS_PREFIX.length), reason: 'too_large' });
    }
    done();
  });
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  setupOpenApi(app);
  return app;
}
