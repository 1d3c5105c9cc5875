-- The verify's database work, as OtpService.check() → PrismaOtpRepository issues it
-- (src/otp/prisma-otp.repository.ts, statements FIND_NEWEST and RECORD_ATTEMPT of
-- src/otp/otp.statements.ts): findNewest (the client's newest code for phone + purpose and the
-- (client, phone)'s lockout), then recordAttempt
-- (one statement: the (client, phone)'s codes locked, the hour's wrong codes and the consecutive
-- failures counted from them, the guard row written only when a
-- lockout arms or a count resets, then the conditional UPDATE … RETURNING of the code, a wrong
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
WITH mine AS (
  SELECT id, status, attempts, max_attempts, expires_at, failed_at FROM one_time_codes
  WHERE phone = (:phone)::text AND client = 'bench' AND expires_at > now() - interval '1 hour'
  ORDER BY id FOR UPDATE
), target AS (
  SELECT 1 FROM mine WHERE id = (:code_id)::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > now()
), g AS (
  SELECT consecutive_failures, counted_until, locked_until FROM verify_guards
  WHERE client = 'bench' AND phone = (:phone)::text FOR SHARE
), tally AS (
  SELECT (SELECT count(*) FROM mine, unnest(mine.failed_at) AS f WHERE f > now() - interval '1 hour') AS recent,
         coalesce((SELECT consecutive_failures FROM g), 0)
           + (SELECT count(*) FROM mine, unnest(mine.failed_at) AS f
              WHERE f > coalesce((SELECT counted_until FROM g), '-infinity'))
           + (SELECT count(*) FROM one_time_codes AS o, unnest(o.failed_at) AS f
              WHERE o.phone = (:phone)::text AND o.client = 'bench' AND o.expires_at <= now() - interval '1 hour'
                AND f > coalesce((SELECT counted_until FROM g), '-infinity')) AS consecutive,
         EXISTS (SELECT 1 FROM g) AS guarded,
         (SELECT locked_until FROM g) AS locked_until
), admit AS (
  SELECT t.consecutive FROM target, tally AS t
  WHERE (t.locked_until IS NULL OR t.locked_until <= now())
    AND ((:lim)::int = 0 OR t.recent < (:lim)::int)
    AND (t.guarded OR (:m)::int = 1 OR t.consecutive < (:maxfail)::int)
), guard AS (
  INSERT INTO verify_guards AS g (client, phone, consecutive_failures, counted_until, locked_until, updated_at)
  SELECT 'bench', (:phone)::text, CASE WHEN (:m)::int = 1 THEN 0 ELSE a.consecutive + 1 END, now(),
         CASE WHEN (:m)::int = 1 THEN NULL ELSE now() + interval '1 day' END, now()
  FROM admit AS a
  WHERE CASE WHEN (:m)::int = 1 THEN a.consecutive > 0 ELSE a.consecutive + 1 >= (:maxfail)::int END
  ON CONFLICT (client, phone) DO UPDATE SET consecutive_failures = excluded.consecutive_failures,
    counted_until = excluded.counted_until, locked_until = excluded.locked_until, updated_at = excluded.updated_at
  RETURNING 1
), updated AS (
  UPDATE one_time_codes SET
    attempts = attempts + 1,
    failed_at = CASE WHEN (:m)::int = 1 THEN failed_at ELSE failed_at || now() END,
    status = CASE WHEN (:m)::int = 1 THEN 'verified'::"VerificationStatus"
                  WHEN attempts + 1 >= max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                  ELSE status END,
    used_at = CASE WHEN (:m)::int = 1 THEN now() ELSE used_at END
  WHERE id = (:code_id)::uuid AND EXISTS (SELECT 1 FROM admit)
  RETURNING status::text, attempts, max_attempts AS "maxAttempts", used_at AS "usedAt",
    delivery_provider AS "deliveryProvider"
)
SELECT u.status, u.attempts, u."maxAttempts", u."usedAt", u."deliveryProvider",
       EXISTS (SELECT 1 FROM target) AS usable, EXISTS (SELECT 1 FROM admit) AS admitted
FROM (SELECT 1) AS one LEFT JOIN updated AS u ON true;
