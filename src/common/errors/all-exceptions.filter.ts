import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiException } from './api.exception.js';
import { isDatabaseUnavailable } from './database-errors.js';
import type { ErrorCode } from './error-code.js';

/** Fastify's own error codes (body parsing, limits) and the contract codes they become. */
const FASTIFY_CODES: Record<string, [number, ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Content-Type must be application/json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_request', 'Request body must not be empty'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request', 'Content-Length does not match the body'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_request', 'Request body is not valid JSON'],
};

const HTTP_CODES: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  404: 'route_not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/**
 * The only exception filter: every error leaves the service as
 * `{ statusCode, code, message, details? }` (shared/docs/API.md). Unknown errors become a 500
 * `internal_error` whose `errorId` is logged with the error; a database outage becomes a 503
 * `service_unavailable`; nothing ever answers with a stack trace.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body, headers } = this.toResponse(exception);
    if (reply.sent) return;
    void reply
      .status(status)
      .headers({ ...headers, 'cache-control': 'no-store' })
      .type('application/json; charset=utf-8')
      .send(body);
  }

  toResponse(exception: unknown): {
    status: number;
    body: Record<string, unknown>;
    headers: Record<string, string>;
  } {
    if (exception instanceof ApiException) {
      return { status: exception.getStatus(), body: exception.body(), headers: exception.headers ?? {} };
    }
    const fastifyCode = (exception as { code?: unknown })?.code;
    if (typeof fastifyCode === 'string' && FASTIFY_CODES[fastifyCode]) {
      const [status, code, message] = FASTIFY_CODES[fastifyCode];
      return { status, body: { statusCode: status, code, message }, headers: {} };
    }
    // JSON syntax errors from Fastify's parser carry statusCode 400 and a SyntaxError message.
    const statusCode = (exception as { statusCode?: unknown })?.statusCode;
    if (exception instanceof SyntaxError || (statusCode === 400 && !(exception instanceof HttpException))) {
      return {
        status: 400,
        body: { statusCode: 400, code: 'invalid_request', message: 'Request body is not valid JSON' },
        headers: {},
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = HTTP_CODES[status];
      if (code) {
        const response = exception.getResponse();
        const details =
          typeof response === 'object' && response !== null && 'details' in response
            ? (response as { details: Record<string, unknown> }).details
            : undefined;
        const message =
          status === 404
            ? 'Route not found'
            : status === 415
              ? 'Content-Type must be application/json'
              : exception.message;
        return {
          status,
          body: { statusCode: status, code, message, ...(details ? { details } : {}) },
          headers: {},
        };
      }
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ err: summarize(exception) }, 'database unavailable');
      return {
        status: 503,
        body: {
          statusCode: 503,
          code: 'service_unavailable',
          message: 'The database is unavailable; retry later',
        },
        headers: { 'retry-after': '5' },
      };
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err: summarize(exception) }, 'unhandled error');
    return {
      status: 500,
      body: { statusCode: 500, code: 'internal_error', message: 'Internal error', errorId },
      headers: {},
    };
  }
}

/** Name, message and stack only: never an error's config, request or response (they carry secrets). */
export function summarize(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return {
      type: error.name,
      message: error.message,
      stack: error.stack,
      code: (error as { code?: unknown }).code,
    };
  }
  return { type: typeof error, message: String(error) };
}
