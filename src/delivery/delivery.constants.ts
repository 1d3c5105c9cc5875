/** graphile-worker task that hands one code to the providers. */
export const DELIVER_OTP_TASK = 'deliver-otp';
/** graphile-worker task that deletes codes past OTP_RETENTION_HOURS (and old idempotency keys, receipts). */
export const RETENTION_TASK = 'otp-retention';

/** Payload of a DELIVER_OTP_TASK job. `c` is the code, AES-256-GCM encrypted and bound to `id`. */
export interface DeliverOtpPayload {
  id: string;
  c: string;
  /**
   * A fallback send (new digits after `after` reported failure, see FALLBACK_TASK): only the
   * providers after it in the chain. Absent for the send's own job.
   */
  after?: string;
}

/** Job key of the fallback send of a code (the send's own job is keyed by the code id). */
export const fallbackSendKey = (codeId: string) => `fallback-send:${codeId}`;

/**
 * graphile-worker task asking for the next provider after `failedProvider` reported a failure
 * after accepting the message (e.g. a Sinch FAILED delivery report). The job holds no code: as no
 * copy of the code survives its delivery job, the worker re-keys the still-pending code (new
 * digits, same id) and, in the same statement, enqueues a DELIVER_OTP_TASK job carrying the new
 * digits encrypted (`after: failedProvider`): that send is then as crash-safe as the first one
 * (an attempt left in doubt is retried with the same digits, never new ones).
 */
export const FALLBACK_TASK = 'deliver-otp-fallback';

export interface FallbackPayload {
  id: string;
  failedProvider: string;
}
