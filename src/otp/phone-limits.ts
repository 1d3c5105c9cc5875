/**
 * The per-phone limits, counted by PostgreSQL in this module's statements (otp.statements.ts):
 * their names (refusal reason and metric label, as the per-IP limits' names in throttling/) and
 * their rolling window.
 */
export const SEND_PHONE = 'send-phone';
export const VERIFY_PHONE = 'verify-phone';
/** The rolling window of the per-phone send and verify limits. */
export const LIMIT_WINDOW_MS = 3_600_000;
