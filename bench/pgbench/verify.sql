-- The verify's database work, as OtpService.check() → PrismaOtpRepository issues it
-- (src/otp/prisma-otp.repository.ts, statements FIND_NEWEST and RECORD_ATTEMPT of
-- src/otp/otp.statements.ts): findNewest (the client's newest code for phone + purpose and the
-- (client, phone)'s lockout), then recordAttempt
-- (one statement: the (client, phone)'s codes read once, and locked only when another purpose's
-- code can take a try, the hour's wrong codes and the consecutive failures counted from them, the
-- guard row written only when a lockout arms or a count resets, then the conditional UPDATE … RETURNING of the code, a wrong
-- code's time appended to its failed_at), each its own autocommit statement: two round trips, like
-- the service. The rows are pre-seeded by bench/run.mjs (:rows pending codes of client `bench`,
-- phones +23324 8xxxxxx); :m = 0 is the wrong-code path (attempts + 1, one more failure on the
-- code), which keeps rows pending so every transaction does the full UPDATE (a right code costs the
-- same UPDATE). Limits as bench/run.mjs configures the service.
\set n 8000000 + random(1, :rows)
\set m 0
\set lim 1000000
\set maxfail 20
SELECT c.id AS code_id, c.phone, c.purpose, c.code_hash AS "codeHash", c.hash_key_id AS "hashKeyId", c.status,
       c.attempts, c.max_attempts AS "maxAttempts", c.expires_at AS "expiresAt",
       (SELECT locked_until FROM verify_guards WHERE client = 'bench' AND phone = '+23324' || lpad((:n)::text, 7, '0')) AS "lockedUntil"
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
  SELECT * FROM one_time_codes
  WHERE phone = '+23324' || lpad((:n)::text, 7, '0') AND client = 'bench' AND purpose = 'login'
  ORDER BY created_at DESC LIMIT 1
) AS c ON true \gset
WITH codes AS (
  SELECT id, status, attempts, max_attempts, expires_at, failed_at FROM one_time_codes
  WHERE phone = (:phone) AND client = 'bench'
), contended AS (
  SELECT 1 FROM codes
  WHERE id <> (:code_id)::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > now()::timestamptz
  LIMIT 1
), live AS (
  SELECT c.id, c.failed_at FROM one_time_codes AS c
  WHERE EXISTS (SELECT 1 FROM contended) AND c.phone = (:phone) AND c.client = 'bench' AND c.expires_at > (now() - interval '1 hour')::timestamptz
  ORDER BY c.id FOR UPDATE
), g AS (
  SELECT consecutive_failures, coalesce(counted_until, '-infinity') AS since, locked_until
  FROM verify_guards WHERE client = 'bench' AND phone = (:phone) FOR SHARE
), others AS (
  SELECT f FROM live, unnest(live.failed_at) AS f WHERE live.id <> (:code_id)::uuid
  UNION ALL
  SELECT f FROM codes, unnest(codes.failed_at) AS f
  WHERE codes.id <> (:code_id)::uuid AND (NOT EXISTS (SELECT 1 FROM contended) OR codes.expires_at <= (now() - interval '1 hour')::timestamptz)
), pre AS (
  SELECT (SELECT count(*) FROM others WHERE f > (now() - interval '1 hour')::timestamptz) AS recent,
         coalesce((SELECT since FROM g), '-infinity') AS since,
         coalesce((SELECT consecutive_failures FROM g), 0)
           + (SELECT count(*) FROM others WHERE f > coalesce((SELECT since FROM g), '-infinity')) AS consecutive,
         EXISTS (SELECT 1 FROM g) AS guarded,
         coalesce((SELECT locked_until FROM g) <= now()::timestamptz, true) AS unlocked
), updated AS (
  UPDATE one_time_codes AS t SET
    attempts = t.attempts + 1,
    failed_at = CASE WHEN ((:m)::int = 1) THEN t.failed_at ELSE t.failed_at || now()::timestamptz END,
    status = CASE WHEN ((:m)::int = 1) THEN 'verified'::"VerificationStatus"
                  WHEN t.attempts + 1 >= t.max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                  ELSE t.status END,
    used_at = CASE WHEN ((:m)::int = 1) THEN now()::timestamptz ELSE t.used_at END
  FROM pre AS p
  WHERE t.id = (:code_id)::uuid AND t.status = 'pending' AND t.attempts < t.max_attempts AND t.expires_at > now()::timestamptz
    AND p.unlocked
    AND ((:lim)::int = 0 OR p.recent + (SELECT count(*) FROM unnest(t.failed_at) AS f WHERE f > (now() - interval '1 hour')::timestamptz) < (:lim)::int)
    AND (((:m)::int = 1) OR p.guarded
         OR p.consecutive + (SELECT count(*) FROM unnest(t.failed_at) AS f WHERE f > p.since) < (:maxfail)::int)
  RETURNING t.status::text, t.attempts, t.max_attempts AS "maxAttempts", t.used_at AS "usedAt",
    t.delivery_provider AS "deliveryProvider",
    p.consecutive + (SELECT count(*) FROM unnest(t.failed_at) AS f WHERE f > p.since) AS consecutive
), blocked AS (
  SELECT p.consecutive + (SELECT count(*) FROM codes, unnest(codes.failed_at) AS f
                          WHERE codes.id = (:code_id)::uuid AND f > p.since) AS consecutive
  FROM pre AS p
  WHERE NOT ((:m)::int = 1) AND p.unlocked AND NOT p.guarded AND NOT EXISTS (SELECT 1 FROM updated)
), guard AS (
  INSERT INTO verify_guards AS g (client, phone, consecutive_failures, counted_until, locked_until, updated_at)
  SELECT 'bench'::text, (:phone)::text, CASE WHEN ((:m)::int = 1) THEN 0 ELSE w.consecutive END, now()::timestamptz,
         CASE WHEN ((:m)::int = 1) THEN NULL ELSE (now() + interval '1 day')::timestamptz END, now()::timestamptz
  FROM (SELECT consecutive FROM updated UNION ALL SELECT consecutive FROM blocked) AS w
  WHERE CASE WHEN ((:m)::int = 1) THEN w.consecutive > 0 ELSE w.consecutive >= (:maxfail)::int END
  ON CONFLICT (client, phone) DO UPDATE SET
    consecutive_failures = excluded.consecutive_failures, counted_until = excluded.counted_until,
    locked_until = excluded.locked_until, updated_at = excluded.updated_at
)
SELECT u.status, u.attempts, u."maxAttempts", u."usedAt", u."deliveryProvider"
FROM (SELECT 1) AS one LEFT JOIN updated AS u ON true;
