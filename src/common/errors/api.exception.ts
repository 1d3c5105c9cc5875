import { HttpException } from '@nestjs/common';
import { ERROR_STATUS, type ErrorCode } from './error-code.js';

export interface ApiExceptionOptions {
  /** Optional structured details (e.g. field → message map for invalid_request). */
  details?: Record<string, unknown>;
  /** Extra top-level body fields (e.g. `verified: false`, `attemptsRemaining`). */
  extra?: Record<string, unknown>;
  /** Response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Status override, for codes whose status depends on the route (verify's not_found is 400). */
  status?: number;
}

/** The one exception type of the service: an error code, a message and the HTTP status of the code. */
export class ApiException extends HttpException {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: ApiExceptionOptions = {}) {
    const status = options.status ?? ERROR_STATUS[code];
    super({ statusCode: status, code, message }, status);
    this.code = code;
    this.details = options.details;
    this.extra = options.extra;
    this.headers = options.headers;
  }

  body(): Record<string, unknown> {
    return {
      ...this.extra,
      statusCode: this.getStatus(),
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}
