/** Every error code of the public contract (shared/docs/API.md) and the HTTP status it maps to. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_phone: 400,
  unauthorized: 401,
  invalid_signature: 401,
  country_not_allowed: 403,
  forbidden: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  idempotency_in_progress: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  resend_cooldown: 429,
  too_many_failures: 429,
  headers_too_large: 431,
  internal_error: 500,
  service_unavailable: 503,
  // Verify outcomes (body also carries `verified: false`).
  invalid_code: 400,
  expired: 400,
  max_attempts_reached: 429,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
