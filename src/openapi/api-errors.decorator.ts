import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { type ErrorCode, errorExample, VERIFY_ANSWERS } from '../common/index.js';
import { ErrorResponse } from './error.response.js';

/** What a Retry-After header means, for the 429/503 answers that carry one. */
export const RETRY_AFTER_HEADER = {
  description: 'Seconds to wait before retrying',
  schema: { type: 'integer', minimum: 0, example: 42 },
};

/** Statuses whose answers carry Retry-After. */
const WITH_RETRY_AFTER = new Set([429, 503]);

/**
 * Documents the error answers of one route: one OpenAPI response per HTTP status, with the
 * ErrorResponse schema and one named example per error code, so /docs shows every code a client
 * must handle, from the error catalogue. `verify: true` uses verify's answers (VERIFY_ANSWERS:
 * not_found is a 400 there, outcomes carry `verified: false`).
 * Errors any route can answer (TRANSPORT_ERRORS in openapi.ts) and X-Request-Id are added to every
 * operation when the document is built.
 */
export function ApiErrors(codes: ErrorCode[], options: { verify?: boolean } = {}): MethodDecorator {
  const byStatus = new Map<number, { code: ErrorCode; value: Record<string, unknown> }[]>();
  for (const code of codes) {
    const value = errorExample(code, options.verify ? VERIFY_ANSWERS : undefined);
    const list = byStatus.get(value.statusCode) ?? [];
    list.push({ code, value });
    byStatus.set(value.statusCode, list);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({
        status,
        description: list.map((e) => `\`${e.code}\``).join(', '),
        type: ErrorResponse,
        headers: WITH_RETRY_AFTER.has(status) ? { 'Retry-After': RETRY_AFTER_HEADER } : undefined,
        examples: Object.fromEntries(list.map((e) => [e.code, { summary: e.code, value: e.value }])),
      }),
    ),
  ) as MethodDecorator;
}
