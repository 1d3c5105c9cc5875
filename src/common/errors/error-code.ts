/**
 * The error catalogue: every error code of the public contract (docs/api.md) with its HTTP status,
 * its message and the extra fields of its documented example. The one source of all three:
 * DomainError takes its message from here, the exception filter its status, the OpenAPI document
 * its examples (errorExample), and docs/api.md's error table is checked against it
 * (error-code.spec.ts). A new code, or a new message, is added here and nowhere else.
 */
export interface CatalogueEntry {
  /** The HTTP status the code is answered with (a route may answer it otherwise: VERIFY_ANSWERS). */
  readonly status: number;
  /** The message every answer with this code carries, unless it names one of `messages`. */
  readonly message: string;
  /** The code's other messages, by the situation that raises them. */
  readonly messages?: Readonly<Record<string, string>>;
  /** Headers every answer with this code carries (Retry-After comes from the error's own data). */
  readonly headers?: Readonly<Record<string, string>>;
  /** `{name}` placeholders of the message, as filled in the documented example. */
  readonly params?: Readonly<Record<string, string>>;
  /** Fields of the documented example besides statusCode, code and message. */
  readonly example?: Readonly<Record<string, unknown>>;
}

const EXAMPLE_ERROR_ID = '0b9f3c2e-7d1a-4f8e-9a51-2c6f0d3e4b7a';

export const ERROR_CATALOGUE = {
  invalid_request: {
    status: 400,
    message: 'Request validation failed',
    messages: {
      idempotencyKey: 'Idempotency-Key must be 1-255 visible ASCII characters',
      challenge: 'hub.challenge is missing or malformed',
      emptyBody: 'Request body must not be empty',
      contentLength: 'Content-Length does not match the body',
      invalidJson: 'Request body is not valid JSON',
      malformedUri: 'Malformed request URI',
      malformedHttp: 'Malformed HTTP request',
    },
    example: { details: { phone: 'phone should not be empty' } },
  },
  invalid_phone: { status: 400, message: 'phone is not a valid mobile number' },
  unauthorized: {
    status: 401,
    message: 'Missing or invalid API key',
    messages: { metricsToken: 'Missing or invalid metrics token' },
    headers: { 'www-authenticate': 'Bearer' },
  },
  invalid_signature: { status: 401, message: 'Missing or invalid webhook signature' },
  country_not_allowed: {
    status: 403,
    message: 'Codes cannot be sent to numbers of this country',
    example: { details: { country: 'NG' } },
  },
  forbidden: { status: 403, message: 'Wrong verify token or mode' },
  not_found: { status: 404, message: 'No verification with this id' },
  route_not_found: { status: 404, message: 'Route not found' },
  method_not_allowed: {
    status: 405,
    message: 'Method not allowed; use {allow}',
    params: { allow: 'POST' },
  },
  request_timeout: { status: 408, message: 'The request did not arrive within the time allowed' },
  idempotency_in_progress: {
    status: 409,
    message: 'A request with this Idempotency-Key is still being processed',
  },
  payload_too_large: { status: 413, message: 'Request body is too large' },
  uri_too_long: { status: 414, message: 'The request URI is too long' },
  unsupported_media_type: { status: 415, message: 'Content-Type must be application/json' },
  idempotency_key_reused: {
    status: 422,
    message: 'This Idempotency-Key was used with a different request body',
  },
  rate_limited: {
    status: 429,
    message: 'Too many requests; retry later',
    example: { details: { throttler: 'send-phone', retryAfterSeconds: 42 } },
  },
  resend_cooldown: {
    status: 429,
    message: 'A code was sent to this number moments ago; wait before resending',
    example: { details: { retryAfterSeconds: 42, resendAvailableAt: '2025-01-01T12:01:00.000Z' } },
  },
  /** API.md A2: too many consecutive wrong codes for one (client, phone); with Retry-After. */
  too_many_failures: {
    status: 429,
    message: 'Too many wrong codes for this number; retry later',
    example: { details: { retryAfterSeconds: 86400 } },
  },
  headers_too_large: { status: 431, message: 'The request headers are too large' },
  internal_error: { status: 500, message: 'Internal error', example: { errorId: EXAMPLE_ERROR_ID } },
  service_unavailable: {
    status: 503,
    message: 'The database is unavailable; retry later',
    messages: { rateLimiting: 'Rate limiting is unavailable; retry later' },
  },
  // Verify outcomes (on POST /v1/otp/verify the body also carries `verified: false`: VERIFY_ANSWERS).
  invalid_code: { status: 400, message: 'The code is not correct', example: { attemptsRemaining: 3 } },
  expired: { status: 400, message: 'The code has expired; request a new one' },
  max_attempts_reached: { status: 429, message: 'Too many wrong codes; request a new one' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The named messages of one code (`never` when it has only its default message). */
export type MessageName<C extends ErrorCode> = (typeof ERROR_CATALOGUE)[C] extends {
  messages: infer M;
}
  ? keyof M & string
  : never;

const CATALOGUE: Readonly<Record<ErrorCode, CatalogueEntry>> = ERROR_CATALOGUE;

/** Every code and the HTTP status it maps to (derived from the catalogue). */
export const ERROR_STATUS = Object.fromEntries(
  Object.entries(CATALOGUE).map(([code, entry]) => [code, entry.status]),
) as { readonly [C in ErrorCode]: (typeof ERROR_CATALOGUE)[C]['status'] };

/** The catalogue's message for a code: its default, or one of its named messages, placeholders filled. */
export function errorMessage<C extends ErrorCode>(
  code: C,
  name?: MessageName<C>,
  params: Record<string, string> = {},
): string {
  const entry = CATALOGUE[code];
  const template = name === undefined ? entry.message : entry.messages?.[name];
  if (template === undefined) throw new Error(`no message ${name} for error code ${code}`);
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => params[key] ?? whole);
}

/**
 * How one route answers some codes differently from the catalogue: fields added to the body of
 * the listed codes, and a status or message of its own for some.
 */
export interface RouteAnswers {
  readonly fields: {
    readonly codes: readonly ErrorCode[];
    readonly values: Readonly<Record<string, unknown>>;
  };
  readonly overrides: Partial<Record<ErrorCode, { readonly status: number; readonly message: string }>>;
}

/** The outcomes of a verify: counted in the verifications metric, answered with `verified: false`. */
export const VERIFY_OUTCOMES = [
  'invalid_code',
  'expired',
  'not_found',
  'max_attempts_reached',
  'too_many_failures',
] as const satisfies readonly ErrorCode[];

export type VerifyOutcome = (typeof VERIFY_OUTCOMES)[number];

export function isVerifyOutcome(code: ErrorCode): code is VerifyOutcome {
  return (VERIFY_OUTCOMES as readonly ErrorCode[]).includes(code);
}

/**
 * POST /v1/otp/verify (API.md): its outcomes carry `verified: false`, and its not_found is a 400
 * (the route exists; the code does not) that names what is missing.
 */
export const VERIFY_ANSWERS: RouteAnswers = {
  fields: { codes: VERIFY_OUTCOMES, values: { verified: false } },
  overrides: { not_found: { status: 400, message: 'No pending code for this phone and purpose' } },
};

/** The route answers of a Fastify route config (`@RouteConfig({ errorAnswers })`), by name. */
export const ROUTE_ANSWERS = { verify: VERIFY_ANSWERS } as const;
export type RouteAnswersName = keyof typeof ROUTE_ANSWERS;

export type ErrorExample = Record<string, unknown> & { statusCode: number; code: ErrorCode; message: string };

/** The documented example body of a code (on a route, with the route's own answer). */
export function errorExample(code: ErrorCode, route?: RouteAnswers): ErrorExample {
  const entry = CATALOGUE[code];
  const override = route?.overrides[code];
  const { details, ...fields } = entry.example ?? {};
  return {
    ...(route?.fields.codes.includes(code) ? route.fields.values : {}),
    ...fields,
    statusCode: override?.status ?? entry.status,
    code,
    message: override?.message ?? errorMessage(code, undefined, entry.params),
    ...(details === undefined ? {} : { details }),
  };
}
