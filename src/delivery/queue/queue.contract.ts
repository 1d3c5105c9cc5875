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

/** Job key of a code's FALLBACK_TASK job (followed by the code id). */
export const FALLBACK_JOB_KEY_PREFIX = 'fallback:';

export interface FallbackPayload {
  id: string;
  failedProvider: string;
}

/** graphile-worker's max_attempts of a DELIVER_OTP_TASK job (a database error retries the job). */
export const DELIVER_OTP_MAX_ATTEMPTS = 10;
/** graphile-worker's max_attempts of a FALLBACK_TASK job. */
export const FALLBACK_MAX_ATTEMPTS = 5;

/** The arguments of an enqueue, each an SQL expression (a placeholder, a column, a literal). */
export interface EnqueueSql {
  /** text: the task name. */
  task: string;
  /** json: the job's payload. */
  payload: string;
  /** text: the job key (a second job with the same key replaces a waiting one). */
  jobKey: string;
  maxAttempts: number;
}

/**
 * The one SQL fragment that puts a job in the queue, inside the statement that decides it (the
 * ISSUE statement of otp/otp.statements.ts, the FAILED report of webhooks/delivery-reports), so the
 * row and its job commit together. An expression: `SELECT ${enqueueJobSql(…)} FROM …`.
 */
export function enqueueJobSql({ task, payload, jobKey, maxAttempts }: EnqueueSql): string {
  return `graphile_worker.add_job(${task}::text, ${payload}::json, job_key => ${jobKey}::text, max_attempts => ${maxAttempts})`;
}

/** An SQL string literal of a constant (a task name): never for a value from a request. */
export const sqlLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;
