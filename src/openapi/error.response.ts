import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '../common/index.js';

/** The codes shared/docs/API.md lists, in its order (the enum of ErrorResponse.code). */
export const CONTRACT_ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/**
 * The one error body of the service (AllExceptionsFilter): `{ statusCode, code, message, details? }`,
 * plus `verified: false` on verify outcomes and `errorId` on 5xx. Documentation only: the filter
 * builds the body.
 */
export class ErrorResponse {
  @ApiProperty({ description: 'HTTP status, repeated in the body', example: 400 })
  statusCode!: number;

  @ApiProperty({
    description: 'Machine-readable error code; clients branch on this, never on `message`',
    enum: CONTRACT_ERROR_CODES,
    enumName: 'ErrorCode',
    example: 'invalid_phone',
  })
  code!: ErrorCode;

  @ApiProperty({
    description: 'Human-readable explanation (may change)',
    example: 'phone is not a valid mobile number',
  })
  message!: string;

  @ApiPropertyOptional({
    description:
      '`invalid_request`: field → message map; `resend_cooldown`: retryAfterSeconds and resendAvailableAt',
    type: 'object',
    additionalProperties: true,
    example: { phone: 'phone should not be empty' },
  })
  details?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Verify outcomes only (invalid_code, expired, not_found, max_attempts_reached)',
    example: false,
  })
  verified?: boolean;

  @ApiPropertyOptional({ description: '`invalid_code` only: wrong tries left for this code', example: 3 })
  attemptsRemaining?: number;

  @ApiPropertyOptional({
    description: '`internal_error` only: the id under which the error was logged',
    format: 'uuid',
    example: '0b9f3c2e-7d1a-4f8e-9a51-2c6f0d3e4b7a',
  })
  errorId?: string;
}

type Example = Record<string, unknown> & { statusCode: number };

/** One example body per contract code (the messages are the service's own). */
export const ERROR_EXAMPLES: Record<ErrorCode, Example> = {
  invalid_request: {
    statusCode: 400,
    code: 'invalid_request',
    message: 'Request validation failed',
    details: { phone: 'phone should not be empty' },
  },
  invalid_phone: { statusCode: 400, code: 'invalid_phone', message: 'phone is not a valid mobile number' },
  unauthorized: { statusCode: 401, code: 'unauthorized', message: 'Missing or invalid API key' },
  invalid_signature: {
    statusCode: 401,
    code: 'invalid_signature',
    message: 'Webhook signature is not valid',
  },
  country_not_allowed: {
    statusCode: 403,
    code: 'country_not_allowed',
    message: 'Codes cannot be sent to this country',
  },
  forbidden: { statusCode: 403, code: 'forbidden', message: 'Wrong verify token or mode' },
  not_found: { statusCode: 404, code: 'not_found', message: 'No verification with this id' },
  route_not_found: { statusCode: 404, code: 'route_not_found', message: 'Route not found' },
  method_not_allowed: { statusCode: 405, code: 'method_not_allowed', message: 'Method not allowed' },
  request_timeout: {
    statusCode: 408,
    code: 'request_timeout',
    message: 'The request did not arrive within the time allowed',
  },
  headers_too_large: {
    statusCode: 431,
    code: 'headers_too_large',
    message: 'The request headers are too large',
  },
  idempotency_in_progress: {
    statusCode: 409,
    code: 'idempotency_in_progress',
    message: 'A request with this Idempotency-Key is still being processed',
  },
  payload_too_large: { statusCode: 413, code: 'payload_too_large', message: 'Request body is too large' },
  uri_too_long: { statusCode: 414, code: 'uri_too_long', message: 'The request URI is too long' },
  unsupported_media_type: {
    statusCode: 415,
    code: 'unsupported_media_type',
    message: 'Content-Type must be application/json',
  },
  idempotency_key_reused: {
    statusCode: 422,
    code: 'idempotency_key_reused',
    message: 'This Idempotency-Key was used with a different request body',
  },
  rate_limited: { statusCode: 429, code: 'rate_limited', message: 'Too many requests; retry later' },
  resend_cooldown: {
    statusCode: 429,
    code: 'resend_cooldown',
    message: 'A code was sent to this number moments ago; wait before resending',
    details: { retryAfterSeconds: 42, resendAvailableAt: '2025-01-01T12:01:00.000Z' },
  },
  too_many_failures: {
    statusCode: 429,
    code: 'too_many_failures',
    message: 'Too many wrong codes for this number; retry later',
    details: { retryAfterSeconds: 86400 },
  },
  internal_error: {
    statusCode: 500,
    code: 'internal_error',
    message: 'Internal error',
    errorId: '0b9f3c2e-7d1a-4f8e-9a51-2c6f0d3e4b7a',
  },
  service_unavailable: {
    statusCode: 503,
    code: 'service_unavailable',
    message: 'The database is unavailable; retry later',
  },
  invalid_code: {
    verified: false,
    statusCode: 400,
    code: 'invalid_code',
    message: 'The code is not correct',
    attemptsRemaining: 3,
  },
  expired: {
    verified: false,
    statusCode: 400,
    code: 'expired',
    message: 'The code has expired; request a new one',
  },
  max_attempts_reached: {
    verified: false,
    statusCode: 429,
    code: 'max_attempts_reached',
    message: 'Too many wrong codes; request a new one',
  },
};

/** verify's not_found is a 400 with `verified: false` (the route exists; the code does not). */
export const VERIFY_NOT_FOUND_EXAMPLE: Example = {
  verified: false,
  statusCode: 400,
  code: 'not_found',
  message: 'No pending code for this phone and purpose',
};
