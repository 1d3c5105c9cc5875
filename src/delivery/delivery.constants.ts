/** graphile-worker task that hands one code to the providers. */
export const DELIVER_OTP_TASK = 'deliver-otp';
/** graphile-worker task that deletes codes past OTP_RETENTION_HOURS (and old idempotency keys, receipts). */
export const RETENTION_TASK = 'otp-retention';

/** Payload of a DELIVER_OTP_TASK job. `c` is the code, AES-256-GCM encrypted and bound to `id`. */
export interface DeliverOtpPayload {
  id: string;
  c: string;
}
