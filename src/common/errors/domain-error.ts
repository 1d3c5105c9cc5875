import { type ErrorCode, errorMessage, type MessageName } from './error-code.js';

/** What an error says besides its code: data only; the HTTP edge decides how it is answered. */
export interface DomainErrorData<C extends ErrorCode = ErrorCode> {
  /** One of the code's named messages in the catalogue (default: the code's own message). */
  message?: MessageName<C>;
  /** Placeholders of the catalogue message (e.g. `{allow}`). */
  params?: Record<string, string>;
  /** Structured details (e.g. field → message map for invalid_request, retryAfterSeconds). */
  details?: Record<string, unknown>;
  /** When the caller may try again, in whole seconds (answered as Retry-After). */
  retryAfterSeconds?: number;
  /** invalid_code: wrong tries left for the code. */
  attemptsRemaining?: number;
}

/**
 * The one error type of the service: a code of the error catalogue (error-code.ts), its message
 * from the catalogue, and the data that goes with it. It knows nothing of HTTP: the exception
 * filter (AllExceptionsFilter) maps the code to a status, headers and the body.
 */
export class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly details?: Record<string, unknown>;
  readonly retryAfterSeconds?: number;
  readonly attemptsRemaining?: number;

  constructor(code: C, data: DomainErrorData<C> = {}) {
    // An outcome, not a fault: no stack is captured (nothing logs one, and on the hot path of a
    // wrong code capturing it was 1.5 % of the service's CPU, bench/PROFILE.md).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(errorMessage(code, data.message, data.params));
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.name = 'DomainError';
    this.code = code;
    this.details = data.details;
    this.retryAfterSeconds = data.retryAfterSeconds;
    this.attemptsRemaining = data.attemptsRemaining;
  }
}
