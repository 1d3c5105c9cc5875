/** What a censored value is replaced with, by both mechanisms below. */
export const CENSOR = '[redacted]';

/**
 * Exact paths pino's `redact` replaces with "[redacted]". Only exact paths: pino's wildcard paths
 * (`*.token`) cost ~36 µs a line against ~5 µs without them (bench/PROFILE.md, issue 18), so the
 * keys below are censored by `censorSecrets` instead, in one pass.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-sinch-webhook-signature"]',
  'req.headers["x-enosend-signature"]',
  'res.headers["set-cookie"]',
  'config',
  'err.config',
  'err.request',
  'err.response',
];

/**
 * Keys censored one level down in every log object (what pino's `*.key` paths did):
 * `{ provider: { token } }`, `{ err: { phone } }`, `{ dto: { phone } }`. Child loggers' bindings do
 * not pass through it (pino applies `formatters.log` to log objects only), so src/ creates no child
 * loggers (a test checks); pino-http's per-request child binds only the serialized request.
 */
export const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'apiKey',
  'api_key',
  'secret',
  'password',
  'token',
  'access_token',
  'accessToken',
  'otp',
  'code_plain',
  'payload',
  'phone',
  'number',
  'identity',
  'text',
  'message_text',
] as const;

const SECRET = new Set<string>(SECRET_KEYS);

/**
 * A second line of defence (the code logs masked phones and never logs bodies, codes, keys or
 * provider requests): returns `object` itself when no value one level down holds a secret key,
 * else a shallow copy whose offending values are copies with those keys censored. The caller's
 * objects are never changed; class instances and errors keep their prototype, message and stack,
 * so pino's serializers still see what they expect. pino's `formatters.log`.
 */
export function censorSecrets<T extends object>(object: T): T {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    const value = (object as Record<string, unknown>)[key];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    const censored = censorOwn(value);
    if (censored === value) continue;
    out ??= { ...(object as Record<string, unknown>) };
    out[key] = censored;
  }
  return (out ?? object) as T;
}

function censorOwn(value: object): unknown {
  let copy: object | undefined;
  for (const key of Object.keys(value)) {
    if (!SECRET.has(key)) continue;
    copy ??= Object.create(
      Object.getPrototypeOf(value) as object | null,
      Object.getOwnPropertyDescriptors(value),
    ) as object;
    try {
      Object.defineProperty(copy, key, {
        value: CENSOR,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } catch {
      return CENSOR; // a property that cannot be replaced: nothing of the value is logged
    }
  }
  return copy ?? value;
}
