/**
 * The SQL of every send and verify, run as named prepared statements (PrismaService.hot). A module
 * of its own, importing only the queue's constants-only contract, so the benchmark's bare server
 * (bench/bare-server.mjs) runs exactly these statements.
 *
 * Per-phone limits live here, in PostgreSQL (API.md A2): checked and counted by the statement that
 * issues or checks a code, serialised by row locks (which, unlike a plain read, always see the
 * latest committed version), and rolling. Sends: a counter row per phone, locked by ON CONFLICT DO
 * UPDATE, holds the times of the last hour's sends (at most the limit), trimmed on write. Verifies:
 * each code row holds the times of its own wrong codes (failed_at), so a wrong code writes only the
 * row it already updates; a verify_guards row is written only when a lockout arms or a count resets.
 *
 * Table ownership exception (docs/architecture.md, "Tables and their owners"): these hot-path
 * statements write one_time_codes (owner: OneTimeCodesRepository), phone_send_counters and
 * verify_guards (otp's, swept by OtpRetention) and the job queue (delivery's) in ONE statement
 * each, so the database decides races in one round trip; they are not split into owner calls.
 */
import { DELIVER_OTP_MAX_ATTEMPTS, enqueueJobSql } from '../delivery/index.js';

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
 * $1 phone, $2 purpose, $3 client. Always one row: the client's newest code for phone + purpose
 * (null columns when there is none) and the (client, phone)'s lockout. The verify limit's window is
 * not read here: the attempt statement checks it (for a right code too), and VERIFY_LIMITS reads it
 * only after a refusal, for Retry-After.
 */
export const FIND_NEWEST = {
  name: 'otp_find_newest_v4',
  text: `
    SELECT ${VERIFY_COLUMNS},
           (SELECT g.locked_until FROM verify_guards AS g WHERE g.client = $3 AND g.phone = $1) AS "lockedUntil"
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
      SELECT * FROM one_time_codes WHERE phone = $1 AND client = $3 AND purpose = $2 ORDER BY created_at DESC LIMIT 1
    ) AS c ON true`,
};

/**
 * Only after a refusal of the attempt statement: $1 phone, $2 client, $3 window start. The
 * (client, phone)'s lockout and the times of its wrong codes in the window, read from the failed_at
 * of its codes (a failure falls within its code's life, so only codes that expire after the window
 * start can hold one).
 */
export const VERIFY_LIMITS = {
  name: 'otp_verify_limits',
  text: `
    SELECT (SELECT g.locked_until FROM verify_guards AS g WHERE g.client = $2 AND g.phone = $1) AS "lockedUntil",
           ARRAY(SELECT f FROM one_time_codes AS w, unnest(w.failed_at) AS f
                 WHERE w.phone = $1 AND w.client = $2 AND w.expires_at > $3 AND f > $3 ORDER BY f) AS "recentFailures"`,
};

/**
 * The attempt's fast path, tried first: one conditional UPDATE for the common case, where the
 * limits can be checked on the code's own row. It counts the attempt only when the
 * (client, phone) has no guard row (no lockout, nothing folded) and no other
 * code that holds a wrong code or can still take one (another purpose's live code), so its
 * failures are all on this row and its row lock serialises every attempt that could change them
 * (PostgreSQL re-checks the quals on the row's latest version); and only when nothing needs writing
 * beyond it: a wrong code stays under the cap, a right code has no failure to reset. Otherwise it
 * changes nothing and returns no row, and RECORD_ATTEMPT decides. The window's count is read only
 * when the code holds as many wrong codes as the limit (fewer in all are fewer in the window).
 * Params $1-$8 of RECORD_ATTEMPT.
 */
export const RECORD_ATTEMPT_FAST = {
  name: 'otp_record_attempt_fast_v2',
  text: `
    UPDATE one_time_codes AS t SET
      attempts = t.attempts + 1,
      failed_at = CASE WHEN $2::boolean THEN t.failed_at ELSE t.failed_at || $3::timestamptz END,
      status = CASE WHEN $2::boolean THEN 'verified'::"VerificationStatus"
                    WHEN t.attempts + 1 >= t.max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                    ELSE t.status END,
      used_at = CASE WHEN $2::boolean THEN $3::timestamptz ELSE t.used_at END
    WHERE t.id = $1::uuid AND t.status = 'pending' AND t.attempts < t.max_attempts AND t.expires_at > $3::timestamptz
      AND t.phone = $5 AND t.client = $4
      AND CASE WHEN $2::boolean THEN cardinality(t.failed_at) = 0 ELSE cardinality(t.failed_at) + 1 < $8::int END
      AND ($7::int = 0 OR cardinality(t.failed_at) < $7::int
           OR (SELECT count(*) FROM unnest(t.failed_at) AS f WHERE f > $6::timestamptz) < $7::int)
      AND NOT EXISTS (SELECT 1 FROM verify_guards AS g WHERE g.client = $4 AND g.phone = $5)
      AND NOT EXISTS (
        SELECT 1 FROM one_time_codes AS o
        WHERE o.phone = $5 AND o.client = $4 AND o.id <> $1::uuid
          AND (cardinality(o.failed_at) > 0
               OR (o.status = 'pending' AND o.attempts < o.max_attempts AND o.expires_at > $3::timestamptz)))
    RETURNING t.status::text, t.attempts, t.max_attempts AS "maxAttempts", t.used_at AS "usedAt",
      t.delivery_provider AS "deliveryProvider"`,
};

/**
 * $1 id, $2 matched, $3 now, $4 client, $5 phone, $6 window start, $7 per-(client, phone) verify
 * limit (0 = off), $8 OTP_MAX_CONSECUTIVE_FAILURES, $9 lockout end (now + OTP_LOCKOUT_SECONDS).
 * A wrong code writes one row, its own: its time goes into the code's failed_at, and the limits
 * are counted from the codes' failed_at (API.md A2, Decision 3).
 *  1. `codes`: the (client, phone)'s codes at this statement's snapshot (one index scan). A code
 *     that cannot take a try (expired, used, burnt) can no longer change.
 *  2. `contended`: another of them can still take a try (a code of another purpose). Only then are
 *     the codes that may hold a failure of the window locked (`live`, in id order, so two attempts
 *     never deadlock) and read at their latest version; otherwise the UPDATE's own row lock
 *     serialises parallel attempts on the target, whose quals PostgreSQL re-checks on its latest
 *     version (so its own failed_at there is always the latest).
 *  3. `g`: the (client, phone)'s guard, latest version: consecutive failures folded up to
 *     counted_until, and a lockout. Locked FOR UPDATE, not FOR SHARE: two attempts that each held
 *     it shared, one then waiting on the code row the other updates while the other's `guard`
 *     upsert waited on the first's share lock, deadlocked (a third of 360 parallel wrong codes,
 *     each a 500 after deadlock_timeout); exclusive, the second waits before touching the code.
 *     Two attempts that disagree on `contended` (another code issued or expiring between their
 *     snapshots) still take the two locks in opposite orders, codes first or guard first; that
 *     narrow window deadlocked under FOR SHARE too.
 *  4. `pre`: the other codes' wrong codes in the window and after counted_until.
 *  5. `updated`: counts the attempt (a wrong code's time into failed_at; a right code marks the code
 *     verified) only while the code can take a try, no lockout runs, the window has room, and, for
 *     a wrong code, the cap is not already reached with no guard row (a parallel attempt armed the
 *     lockout in a row this snapshot cannot see, or the cap was lowered);
 *  6. `guard`: written only when a wrong code reaches the cap (arms or re-arms the lockout, the
 *     count folded at now), when a right code resets a count above zero, or when a wrong code
 *     finds the cap already reached with no guard row (arms it, nothing counted).
 * A code issued while this statement runs, and attempted in that same instant by a statement that
 * counts it, is not seen here: at most one uncounted wrong code per code issued, and issuing is
 * itself limited per phone (docs/threat-model.md).
 */
export const RECORD_ATTEMPT = {
  name: 'otp_record_attempt_v5',
  text: `
    WITH codes AS (
      SELECT id, status, attempts, max_attempts, expires_at, failed_at FROM one_time_codes
      WHERE phone = $5 AND client = $4
    ), contended AS (
      SELECT 1 FROM codes
      WHERE id <> $1::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > $3::timestamptz
      LIMIT 1
    ), live AS (
      SELECT c.id, c.failed_at FROM one_time_codes AS c
      WHERE EXISTS (SELECT 1 FROM contended) AND c.phone = $5 AND c.client = $4 AND c.expires_at > $6::timestamptz
      ORDER BY c.id FOR UPDATE
    ), g AS (
      SELECT consecutive_failures, coalesce(counted_until, '-infinity') AS since, locked_until
      FROM verify_guards WHERE client = $4 AND phone = $5 FOR UPDATE
    ), others AS (
      SELECT f FROM live, unnest(live.failed_at) AS f WHERE live.id <> $1::uuid
      UNION ALL
      SELECT f FROM codes, unnest(codes.failed_at) AS f
      WHERE codes.id <> $1::uuid AND (NOT EXISTS (SELECT 1 FROM contended) OR codes.expires_at <= $6::timestamptz)
    ), pre AS (
      SELECT (SELECT count(*) FROM others WHERE f > $6::timestamptz) AS recent,
             coalesce((SELECT since FROM g), '-infinity') AS since,
             coalesce((SELECT consecutive_failures FROM g), 0)
               + (SELECT count(*) FROM others WHERE f > coalesce((SELECT since FROM g), '-infinity')) AS consecutive,
             EXISTS (SELECT 1 FROM g) AS guarded,
             coalesce((SELECT locked_until FROM g) <= $3::timestamptz, true) AS unlocked
    ), updated AS (
      UPDATE one_time_codes AS t SET
        attempts = t.attempts + 1,
        failed_at = CASE WHEN $2::boolean THEN t.failed_at ELSE t.failed_at || $3::timestamptz END,
        status = CASE WHEN $2::boolean THEN 'verified'::"VerificationStatus"
                      WHEN t.attempts + 1 >= t.max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                      ELSE t.status END,
        used_at = CASE WHEN $2::boolean THEN $3::timestamptz ELSE t.used_at END
      FROM pre AS p
      WHERE t.id = $1::uuid AND t.status = 'pending' AND t.attempts < t.max_attempts AND t.expires_at > $3::timestamptz
        AND p.unlocked
        AND ($7::int = 0 OR p.recent + (SELECT count(*) FROM unnest(t.failed_at) AS f WHERE f > $6::timestamptz) < $7::int)
        AND ($2::boolean OR p.guarded
             OR p.consecutive + (SELECT count(*) FROM unnest(t.failed_at) AS f WHERE f > p.since) < $8::int)
      RETURNING t.status::text, t.attempts, t.max_attempts AS "maxAttempts", t.used_at AS "usedAt",
        t.delivery_provider AS "deliveryProvider",
        p.consecutive + (SELECT count(*) FROM unnest(t.failed_at) AS f WHERE f > p.since) AS consecutive
    ), blocked AS (
      SELECT p.consecutive + (SELECT count(*) FROM codes, unnest(codes.failed_at) AS f
                              WHERE codes.id = $1::uuid AND f > p.since) AS consecutive
      FROM pre AS p
      WHERE NOT $2::boolean AND p.unlocked AND NOT p.guarded AND NOT EXISTS (SELECT 1 FROM updated)
    ), guard AS (
      INSERT INTO verify_guards AS g (client, phone, consecutive_failures, counted_until, locked_until, updated_at)
      SELECT $4::text, $5::text, CASE WHEN $2::boolean THEN 0 ELSE w.consecutive END, $3::timestamptz,
             CASE WHEN $2::boolean THEN NULL ELSE $9::timestamptz END, $3::timestamptz
      FROM (SELECT consecutive FROM updated UNION ALL SELECT consecutive FROM blocked) AS w
      WHERE CASE WHEN $2::boolean THEN w.consecutive > 0 ELSE w.consecutive >= $8::int END
      ON CONFLICT (client, phone) DO UPDATE SET
        consecutive_failures = excluded.consecutive_failures, counted_until = excluded.counted_until,
        locked_until = excluded.locked_until, updated_at = excluded.updated_at
    )
    SELECT u.status, u.attempts, u."maxAttempts", u."usedAt", u."deliveryProvider"
    FROM (SELECT 1) AS one LEFT JOIN updated AS u ON true`,
};
export const FIND_BY_ID = {
  name: 'otp_find_by_id',
  text: `SELECT ${VERIFY_COLUMNS} FROM one_time_codes AS c WHERE c.id = $1::uuid`,
};
