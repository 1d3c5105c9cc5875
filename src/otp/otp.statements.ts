/**
 * The SQL of every send and verify, run as named prepared statements (PrismaService.hot). A module
 * of its own, importing only the queue's constants-only contract, so the benchmark's bare server
 * (bench/bare-server.mjs) runs exactly these statements.
 *
 * Per-phone limits live here, in PostgreSQL (API.md A2): checked and counted by the statement that
 * issues or checks a code, serialised per phone by the row lock of ON CONFLICT DO UPDATE on a
 * counter row (which, unlike a plain read, always sees the latest committed version), and rolling:
 * each counter row holds the times of the last hour's events (at most the limit), trimmed on write.
 */
import { DELIVER_OTP_MAX_ATTEMPTS, enqueueJobSql } from '../delivery/queue/index.js';

const VERIFY_COLUMNS = `c.id::text, c.phone, c.purpose, c.code_hash AS "codeHash", c.hash_key_id AS "hashKeyId",
  c.status::text, c.attempts, c.max_attempts AS "maxAttempts", c.expires_at AS "expiresAt"`;

/**
 * $1 id, $2 phone, $3 purpose, $4 code hash, $5 hash key id, $6 client, $7 locale, $8 max attempts,
 * $9 expires at, $10 now, $11 cooldown start, $12 task, $13 job payload, $14 send-counter key (the
 * phone, or `client|phone`), $15 window start (now - 1 h), $16 per-phone send limit (0 = off).
 *  1. `locked`: the (client, phone) is locked out after too many consecutive failures;
 *  2. `recent`: this client's code for phone + purpose issued inside the cooldown, pending or
 *     burnt (a burnt code is no shortcut to a new one);
 *  3. `counted`: otherwise one send is counted on the phone's counter row, only while fewer than
 *     the limit fall in the last hour (the row lock serialises parallel sends to one phone);
 *  4. `canceled`, `inserted`, `job`: the client's previous pending code is canceled, the new one
 *     inserted and its delivery job enqueued, keyed by the code id.
 * A refusal changes nothing (the counter's WHERE is false, or the CTEs are skipped). A concurrent
 * send for the same client, phone and purpose loses on the unique index: the caller retries once
 * the winner committed (a fresh snapshot then sees it).
 */
export const ISSUE = {
  name: 'otp_issue_v2',
  text: `
    WITH locked AS (
      SELECT locked_until FROM verify_guards WHERE client = $6 AND phone = $2 AND locked_until > $10
    ), recent AS (
      SELECT created_at FROM one_time_codes
      WHERE phone = $2 AND client = $6 AND purpose = $3 AND created_at > $11
        AND (status = 'max_attempts_reached' OR (status = 'pending' AND expires_at > $10))
        AND NOT EXISTS (SELECT 1 FROM locked)
      ORDER BY created_at DESC LIMIT 1
    ), counted AS (
      INSERT INTO phone_send_counters AS p (key, sent_at, sent_by, updated_at)
      SELECT $14::text, ARRAY[$10::timestamptz], ARRAY[$6::text], $10::timestamptz
      WHERE $16::int > 0 AND NOT EXISTS (SELECT 1 FROM locked) AND NOT EXISTS (SELECT 1 FROM recent)
      ON CONFLICT (key) DO UPDATE SET
        (sent_at, sent_by) = (
          SELECT coalesce(array_agg(e.t ORDER BY e.o), '{}') || $10::timestamptz,
                 coalesce(array_agg(e.c ORDER BY e.o), '{}') || $6::text
          FROM unnest(p.sent_at, p.sent_by) WITH ORDINALITY AS e(t, c, o) WHERE e.t > $15),
        updated_at = $10
      WHERE (SELECT count(*) FROM unnest(p.sent_at) AS t WHERE t > $15) < $16::int
      RETURNING 1
    ), go AS (
      SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM locked) AND NOT EXISTS (SELECT 1 FROM recent)
        AND ($16::int = 0 OR EXISTS (SELECT 1 FROM counted))
    ), canceled AS (
      UPDATE one_time_codes SET status = 'canceled', canceled_at = $10
      WHERE phone = $2 AND client = $6 AND purpose = $3 AND status = 'pending' AND EXISTS (SELECT 1 FROM go)
      RETURNING id
    ), inserted AS (
      INSERT INTO one_time_codes (id, phone, purpose, code_hash, hash_key_id, client, locale, max_attempts, expires_at, created_at)
      SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::int, $9::timestamptz, $10::timestamptz
      FROM go, (SELECT count(*) AS n FROM canceled) AS c
      RETURNING id
    ), job AS (
      SELECT ${enqueueJobSql({ task: '$12', payload: '$13', jobKey: '$1', maxAttempts: DELIVER_OTP_MAX_ATTEMPTS })} AS j
      FROM inserted
    )
    SELECT (SELECT locked_until FROM locked) AS "lockedUntil",
           (SELECT created_at FROM recent) AS "lastIssuedAt",
           (SELECT count(*) FROM canceled)::int AS canceled,
           (SELECT count(*) FROM job)::int AS jobs`,
};

/** Only after a refusal by the per-phone send limit: what fills the window ($1 key, $2 window start). */
export const SEND_WINDOW = {
  name: 'otp_send_window',
  text: `SELECT coalesce(array_agg(e.t ORDER BY e.t), '{}') AS "sentAt", coalesce(array_agg(e.c ORDER BY e.t), '{}') AS "sentBy"
    FROM phone_send_counters p, unnest(p.sent_at, p.sent_by) AS e(t, c) WHERE p.key = $1 AND e.t > $2`,
};

/**
 * $1 phone, $2 purpose, $3 client, $4 window start. Always one row: the client's newest code for
 * phone + purpose (null columns when there is none) and the (client, phone)'s verify guard.
 */
export const FIND_NEWEST = {
  name: 'otp_find_newest_v2',
  text: `
    SELECT ${VERIFY_COLUMNS}, g.locked_until AS "lockedUntil",
           coalesce(ARRAY(SELECT f FROM unnest(g.failures) AS f WHERE f > $4 ORDER BY f), '{}') AS "recentFailures"
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
      SELECT * FROM one_time_codes WHERE phone = $1 AND client = $3 AND purpose = $2 ORDER BY created_at DESC LIMIT 1
    ) AS c ON true
    LEFT JOIN verify_guards AS g ON g.client = $3 AND g.phone = $1`,
};

/**
 * $1 id, $2 matched, $3 now, $4 client, $5 phone, $6 window start, $7 per-(client, phone) verify
 * limit (0 = off), $8 OTP_MAX_CONSECUTIVE_FAILURES, $9 lockout end (now + OTP_LOCKOUT_SECONDS).
 *  1. `target`: the code can still take a try (else nothing is counted: not_found, expired, burnt);
 *     FOR UPDATE waits for a parallel attempt and re-reads the row's latest version, so parallel
 *     wrong guesses count on the guard exactly as many times as the code takes them;
 *  2. `guard`: the (client, phone)'s row is locked and, unless locked out or at the verify limit,
 *     counts a wrong code (window + consecutive count; the cap arms, or re-arms, the lockout) or
 *     resets the consecutive count on a right one. A right code with no row skips it (`skip`).
 *  3. `updated`: the attempt is counted on the code, and a right code marks it verified.
 */
export const RECORD_ATTEMPT = {
  name: 'otp_record_attempt_v2',
  text: `
    WITH target AS (
      SELECT 1 FROM one_time_codes
      WHERE id = $1::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > $3::timestamptz
      FOR UPDATE
    ), skip AS (
      SELECT 1 WHERE $2::boolean AND NOT EXISTS (SELECT 1 FROM verify_guards WHERE client = $4 AND phone = $5)
    ), guard AS (
      INSERT INTO verify_guards AS g (client, phone, failures, consecutive_failures, locked_until, updated_at)
      SELECT $4::text, $5::text,
             CASE WHEN $2::boolean OR $7::int = 0 THEN '{}'::timestamptz[] ELSE ARRAY[$3::timestamptz] END,
             CASE WHEN $2::boolean THEN 0 ELSE 1 END,
             CASE WHEN NOT $2::boolean AND 1 >= $8::int THEN $9::timestamptz END,
             $3::timestamptz
      FROM target WHERE NOT EXISTS (SELECT 1 FROM skip)
      ON CONFLICT (client, phone) DO UPDATE SET
        failures = ARRAY(SELECT f FROM unnest(g.failures) AS f WHERE f > $6 ORDER BY f)
          || CASE WHEN $2::boolean OR $7::int = 0 THEN '{}'::timestamptz[] ELSE ARRAY[$3::timestamptz] END,
        consecutive_failures = CASE WHEN $2::boolean THEN 0 ELSE g.consecutive_failures + 1 END,
        locked_until = CASE WHEN $2::boolean THEN NULL
                            WHEN g.consecutive_failures + 1 >= $8::int THEN $9::timestamptz
                            ELSE g.locked_until END,
        updated_at = $3
      WHERE (g.locked_until IS NULL OR g.locked_until <= $3::timestamptz)
        AND ($7::int = 0 OR (SELECT count(*) FROM unnest(g.failures) AS f WHERE f > $6) < $7::int)
      RETURNING 1
    ), updated AS (
      UPDATE one_time_codes SET
        attempts = attempts + 1,
        status = CASE WHEN $2::boolean THEN 'verified'::"VerificationStatus"
                      WHEN attempts + 1 >= max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                      ELSE status END,
        used_at = CASE WHEN $2::boolean THEN $3::timestamptz ELSE used_at END
      WHERE id = $1::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > $3::timestamptz
        AND (EXISTS (SELECT 1 FROM guard) OR EXISTS (SELECT 1 FROM skip))
      RETURNING status::text, attempts, max_attempts AS "maxAttempts", used_at AS "usedAt",
        delivery_provider AS "deliveryProvider"
    )
    SELECT u.status, u.attempts, u."maxAttempts", u."usedAt", u."deliveryProvider",
           EXISTS (SELECT 1 FROM target) AS usable,
           EXISTS (SELECT 1 FROM guard) OR EXISTS (SELECT 1 FROM skip) AS admitted
    FROM (SELECT 1) AS one LEFT JOIN updated AS u ON true`,
};
export const FIND_BY_ID = {
  name: 'otp_find_by_id',
  text: `SELECT ${VERIFY_COLUMNS} FROM one_time_codes AS c WHERE c.id = $1::uuid`,
};
