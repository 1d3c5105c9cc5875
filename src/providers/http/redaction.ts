import { isRecord } from './body.js';

const SAFE_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Seven digits or more in a row may be a phone number (provider codes have at most six). */
const PHONE_LIKE = /\d{7,}/;

/**
 * A provider's machine error code, if it is one: short, of safe characters, with no run of digits
 * long enough to be a phone number. Free text (which may echo a number or a message) is never used
 * as an error code, so it never reaches logs, the database or `GET /v1/otp/:id`.
 */
export function safeCode(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) value = String(value);
  return typeof value === 'string' && SAFE_CODE.test(value) && !PHONE_LIKE.test(value) ? value : undefined;
}

/** The error code of the usual shapes: `{ error: "x" }`, `{ error: { code | status: "x" } }`, `{ code: "x" }`. */
export function errorCodeOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const error = body.error;
  if (typeof error === 'string') return safeCode(error);
  if (isRecord(error)) return safeCode(error.status) ?? safeCode(error.code);
  return safeCode(body.code) ?? safeCode(body.errorCode) ?? safeCode(body.error_code);
}
