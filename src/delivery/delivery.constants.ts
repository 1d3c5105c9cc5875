/** graphile-worker task that hands one code to the providers. */
export const DELIVER_OTP_TASK = 'deliver-otp';
/** graphile-worker task that deletes codes past OTP_RETENTION_HOURS (and old idempotency keys, receipts). */
export const RETENTION_TASK = 'otp-retention';

/** Payload of a DELIVER_OTP_TASK job. `c` is the code, AES-256-GCM encrypted and bound to `id`. */
export interface DeliverOtpPayload {
  id: string;
  c: string;
}

/**
 * graphile-worker task asking for the next provider after `failedProvider` reported a failure
 * after accepting the message (e.g. a Sinch FAILED delivery report). The job holds no code: as no
 * copy of the code survives its delivery job, the worker re-keys the still-pending code (new
 * digits, same id) and sends it through the next provider in the chain.
 */
export const FALLBACK_TASK = 'deliver-otp-fallback';

export interface FallbackPayload {
  id: string;
  failedProvider: string;
}
