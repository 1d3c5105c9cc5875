import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import type { AuthenticatedRequest } from './auth/index.js';
import {
  AllExceptionsFilter,
  answerOf,
  bindTrustProxy,
  assertJsonRequest,
  answerMethodNotAllowed,
  DomainError,
  requestIdOf,
  createValidationPipe,
} from './common/index.js';
import { type AppConfig, securityConfig, type SecurityConfig } from './config/index.js';
import { ShutdownService } from './lifecycle/index.js';
import { MetricsService } from './metrics/index.js';
import { setupOpenApi } from './openapi/index.js';
import { QuietStartupLogger } from './startup.js';
import { WEBHOOKS_PATH } from './webhooks/index.js';

const WEBHOOKS_PREFIX = `/${WEBHOOKS_PATH}/`;

/** Longest request target (path and query) served; longer is `414 uri_too_long`. */
export const MAX_URL_LENGTH = 2048;

const URI_TOO_LONG = answerOf(new DomainError('uri_too_long')).body;

/**
 * The HTTP adapter: Fastify, with the limits that keep hostile clients cheap. Shared by main.ts
 * and the e2e tests so both run the same server.
 */
export function createAdapter(config: AppConfig): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // X-Forwarded-For is read in one place, under TRUST_PROXY: src/common/http/client-ip.ts.
    trustProxy: false,
    // A request trickled byte by byte is cut off; idle keep-alive sockets are closed.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    // Node enforces requestTimeout only when it sweeps its connections, every 30 s by default: a
    // trickled request would hold its socket for up to 30 s past the timeout. Sweep every second.
    http: { connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs) },
    keepAliveTimeout: 65_000,
    // Router settings go in routerOptions: at the top level Fastify 5 warns FSTDEP022 at start-up.
    routerOptions: { maxParamLength: 128 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    logger: false,
    genReqId: (req: IncomingMessage) => requestIdOf(req),
    clientErrorHandler,
    // Errors the router raises before any hook runs: Fastify's own bodies would echo the URL.
    // They run outside the hooks: the request id and the access line are added here.
    frameworkErrors: (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
      reply.raw.once('finish', () =>
        logAccess(request as AuthenticatedRequest, reply.statusCode, reply.elapsedTime, 'unmatched'),
      );
      void reply
        .code(error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400)
        .header('cache-control', 'no-store')
        .header('x-request-id', request.id)
        .send(
          error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? URI_TOO_LONG
            : answerOf(new DomainError('invalid_request', { message: 'malformedUri' })).body,
        );
    },
  });
  bindTrustProxy(adapter.getInstance().server, config.trustProxy);
  return adapter;
}

/**
 * Errors Node's HTTP parser raises before a request exists (a request that did not arrive within
 * the request timeout, headers over the size limit, bytes that are not HTTP): answered with the
 * contract's error body, like every other error, then the socket is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [reason, refusal] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['Request Timeout', new DomainError('request_timeout')]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ['Request Header Fields Too Large', new DomainError('headers_too_large')]
        : ['Bad Request', new DomainError('invalid_request', { message: 'malformedHttp' })];
  const { status, body: answer } = answerOf(refusal);
  const { code } = refusal;
  const body = JSON.stringify(answer);
  const requestId = randomUUID();
  PinoLogger.root?.warn({ reqId: requestId, statusCode: status, code }, 'request refused by the HTTP parser');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Everything applied to the application instance after creation, in main.ts and in tests alike. */
export function configureApp(app: NestFastifyApplication): NestFastifyApplication {
  // Nest's per-module and per-route start-up lines at debug level (src/startup.ts).
  app.useLogger(new QuietStartupLogger(app.get(Logger)));
  const fastify = app.getHttpAdapter().getInstance();
  // A route's own body limit (`@RouteConfig({ bodyLimit })`, e.g. /webhooks/meta's 1 MiB) wins
  // over BODY_LIMIT_BYTES. Routes are registered at init, after this hook.
  fastify.addHook('onRoute', (route) => {
    const limit = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
    if (typeof limit === 'number') route.bodyLimit = limit;
  });
  // JSON only: Fastify's built-in text/plain parser would let a non-JSON body reach validation.
  fastify.removeContentTypeParser('text/plain');
  fastify.addHook('onRequest', (request, reply, done) => {
    // A very long path or :id is refused in the error shape, echoing nothing of it.
    if (request.url.length > MAX_URL_LENGTH) {
      void reply.code(414).header('cache-control', 'no-store').send(URI_TOO_LONG);
      return;
    }
    // Webhooks take JSON only (their signature guards then read the raw bytes). /v1/* checks the
    // content type after authentication, in ApiKeyGuard (API.md Decision 4).
    if (request.url.startsWith(WEBHOOKS_PREFIX) && request.method === 'POST') {
      try {
        assertJsonRequest(request.headers);
      } catch (error) {
        done(error as Error);
        return;
      }
    }
    done();
  });
  // Before any route exists (Nest's at init, /docs below): it records each route's methods and
  // answers 405 for the others, after the URI length check above.
  answerMethodNotAllowed(fastify);
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
    logAccess(request as AuthenticatedRequest, reply.statusCode, reply.elapsedTime, route);
    done();
  });
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  // /docs and /docs-json: off in production unless DOCS_ENABLED=true (API.md A4); off = 404.
  if (app.get<SecurityConfig>(securityConfig.KEY).docsEnabled) setupOpenApi(app);
  return app;
}

/**
 * The one access line of a request (API.md A7): method, route pattern (never the raw URL, which
 * may hold an id or junk), status, duration, request id and calling client; a 401 also says why
 * (missing key, malformed header, unknown key), never with key material.
 */
function logAccess(
  request: AuthenticatedRequest,
  statusCode: number,
  elapsedMs: number,
  route: string,
): void {
  const logger = PinoLogger.root;
  if (!logger) return;
  const line = {
    reqId: request.id,
    method: request.method,
    route,
    statusCode,
    responseTime: Math.round(elapsedMs * 10) / 10,
    ...(request.client ? { client: request.client } : {}),
    ...(statusCode === 401 && request.authFailure ? { authFailure: request.authFailure } : {}),
  };
  const message = line.authFailure
    ? `request completed: unauthorized (${line.authFailure})`
    : 'request completed';
  // 503 is deliberate (draining, database unreachable): a warning, like the 4xx; other 5xx are errors.
  if (statusCode >= 500 && statusCode !== 503) logger.error(line, message);
  else if (statusCode >= 400) logger.warn(line, message);
  else logger.info(line, message);
}
