import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isDatabaseUnavailable } from './database-errors.js';
import { DomainError } from './domain-error.js';
import {
  ERROR_CATALOGUE,
  type ErrorCode,
  errorMessage,
  ROUTE_ANSWERS,
  type RouteAnswers,
  type RouteAnswersName,
} from './error-code.js';

/** Fastify's own error codes (body parsing, limits) and the domain errors they become. */
const FASTIFY_CODES: Record<string, () => DomainError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new DomainError('payload_too_large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new DomainError('unsupported_media_type'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new DomainError('invalid_request', { message: 'emptyBody' }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new DomainError('invalid_request', { message: 'contentLength' }),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new DomainError('invalid_request', { message: 'invalidJson' }),
};

export interface ErrorAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Fastify route config naming the route's own answers (`@RouteConfig({ errorAnswers: 'verify' })`). */
export interface ErrorAnswersRouteConfig {
  errorAnswers?: RouteAnswersName;
}

/**
 * The HTTP answer to a domain error: the catalogue's status and headers (or the route's own),
 * Retry-After from the error's data, and the body `{ ...route fields, attemptsRemaining?,
 * statusCode, code, message, details? }`.
 */
export function answerOf(error: DomainError, route?: RouteAnswers): ErrorAnswer {
  const entry = ERROR_CATALOGUE[error.code];
  const override = route?.overrides[error.code];
  const status = override?.status ?? entry.status;
  const headers: Record<string, string> = { ...('headers' in entry ? entry.headers : {}) };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  const body = {
    ...(route?.fields.codes.includes(error.code) ? route.fields.values : {}),
    ...(error.attemptsRemaining === undefined ? {} : { attemptsRemaining: error.attemptsRemaining }),
    statusCode: status,
    code: error.code,
    message: override?.message ?? error.message,
    ...(error.details ? { details: error.details } : {}),
  };
  return { status, body, headers };
}

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
    const config = reply.request?.routeOptions?.config as ErrorAnswersRouteConfig | undefined;
    const route = config?.errorAnswers ? ROUTE_ANSWERS[config.errorAnswers] : undefined;
    const { status, body, headers } = this.toResponse(exception, route);
    if (reply.sent) return;
    void reply
      .status(status)
      .headers({ ...headers, 'cache-control': 'no-store' })
      .type('application/json; charset=utf-8')
      .send(body);
  }

  toResponse(exception: unknown, route?: RouteAnswers): ErrorAnswer {
    if (exception instanceof DomainError) return answerOf(exception, route);
    const fastifyCode = (exception as { code?: unknown })?.code;
    if (typeof fastifyCode === 'string' && Object.hasOwn(FASTIFY_CODES, fastifyCode)) {
      return answerOf(FASTIFY_CODES[fastifyCode]());
    }
    // JSON syntax errors from Fastify's parser carry statusCode 400 and a SyntaxError message.
    const statusCode = (exception as { statusCode?: unknown })?.statusCode;
    if (exception instanceof SyntaxError || (statusCode === 400 && !(exception instanceof HttpException))) {
      return answerOf(new DomainError('invalid_request', { message: 'invalidJson' }));
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
          code === 'route_not_found' || code === 'unsupported_media_type'
            ? errorMessage(code)
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
      return answerOf(new DomainError('service_unavailable', { retryAfterSeconds: 5 }));
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err: summarize(exception) }, 'unhandled error');
    const { status, body, headers } = answerOf(new DomainError('internal_error'));
    return { status, body: { ...body, errorId }, headers };
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
