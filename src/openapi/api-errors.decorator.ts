import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { ErrorCode } from '../common/errors/error-code.js';
import { ERROR_EXAMPLES, ErrorResponse, VERIFY_NOT_FOUND_EXAMPLE } from '../otp/dto/error.response.js';

/** What a Retry-After header means, for the 409/429/503 answers that carry one. */
const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', example: 42 } },
};

/**
 * Documents the error answers of one route: one OpenAPI response per HTTP status, with the
 * ErrorResponse schema and one named example per error code, so /docs shows every code a client
 * must handle. `verify: true` uses verify's bodies (not_found is a 400 there, with `verified: false`).
 */
export function ApiErrors(codes: ErrorCode[], options: { verify?: boolean } = {}): MethodDecorator {
  const byStatus = new Map<number, { code: ErrorCode; value: Record<string, unknown> }[]>();
  for (const code of codes) {
    const value = options.verify && code === 'not_found' ? VERIFY_NOT_FOUND_EXAMPLE : ERROR_EXAMPLES[code];
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
        headers: [409, 429, 503].includes(status) ? RETRY_AFTER : undefined,
        examples: Object.fromEntries(list.map((e) => [e.code, { summary: e.code, value: e.value }])),
      }),
    ),
  ) as MethodDecorator;
}
