-- The verify's database work, as OtpService.check() → PrismaOtpRepository issues it
-- (src/otp/prisma-otp.repository.ts, statements FIND_NEWEST and RECORD_ATTEMPT of
-- src/otp/otp.statements.ts): findNewest (the client's newest code for phone + purpose, with the
-- (client, phone)'s verify guard), then recordAttempt (one statement: the guard row counts the
-- wrong code, then the conditional UPDATE … RETURNING of the code), each its own autocommit
-- statement: two round trips, like the service. The rows are pre-seeded by bench/run.mjs (:rows
-- pending codes of client `bench`, phones +23324 8xxxxxx); :m = 0 is the wrong-code path (attempts
-- + 1, one more failure on the guard), which keeps rows pending so every transaction does the full
-- UPDATE (a right code costs the same UPDATE). Limits as bench/run.mjs configures the service.
\set n 8000000 + random(1, :rows)
\set m 0
\set lim 1000000
\set maxfail 20
SELECT c.id AS code_id, c.phone, c.purpose, c.code_hash AS "codeHash", c.hash_key_id AS "hashKeyId", c.status,
       c.attempts, c.max_attempts AS "maxAttempts", c.expires_at AS "expiresAt", g.locked_until AS "lockedUntil",
       coalesce(ARRAY(SELECT f FROM unnest(g.failures) AS f WHERE f > now() - interval '1 hour' ORDER BY f), '{}') AS "recentFailures"
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
  SELECT * FROM one_time_codes
  WHERE phone = '+23324' || lpad((:n)::text, 7, '0') AND client = 'bench' AND purpose = 'login'
  ORDER BY created_at DESC LIMIT 1
) AS c ON true
LEFT JOIN verify_guards AS g ON g.client = 'bench' AND g.phone = '+23324' || lpad((:n)::text, 7, '0') \gset
WITH target AS (
  SELECT 1 FROM one_time_codes
  WHERE id = (:code_id)::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > now()
  FOR UPDATE
), skip AS (
  SELECT 1 WHERE (:m)::int = 1 AND NOT EXISTS (SELECT 1 FROM verify_guards WHERE client = 'bench' AND phone = (:phone)::text)
), guard AS (
  INSERT INTO verify_guards AS g (client, phone, failures, consecutive_failures, locked_until, updated_at)
  SELECT 'bench', (:phone)::text,
         CASE WHEN (:m)::int = 1 THEN '{}'::timestamptz[] ELSE ARRAY[now()] END,
         CASE WHEN (:m)::int = 1 THEN 0 ELSE 1 END,
         CASE WHEN (:m)::int = 0 AND 1 >= (:maxfail)::int THEN now() + interval '1 day' END,
         now()
  FROM target WHERE NOT EXISTS (SELECT 1 FROM skip)
  ON CONFLICT (client, phone) DO UPDATE SET
    failures = ARRAY(SELECT f FROM unnest(g.failures) AS f WHERE f > now() - interval '1 hour' ORDER BY f)
      || CASE WHEN (:m)::int = 1 THEN '{}'::timestamptz[] ELSE ARRAY[now()] END,
    consecutive_failures = CASE WHEN (:m)::int = 1 THEN 0 ELSE g.consecutive_failures + 1 END,
    locked_until = CASE WHEN (:m)::int = 1 THEN NULL
                        WHEN g.consecutive_failures + 1 >= (:maxfail)::int THEN now() + interval '1 day'
                        ELSE g.locked_until END,
    updated_at = now()
  WHERE (g.locked_until IS NULL OR g.locked_until <= now())
    AND (SELECT count(*) FROM unnest(g.failures) AS f WHERE f > now() - interval '1 hour') < (:lim)::int
  RETURNING 1
), updated AS (
  UPDATE one_time_codes SET
    attempts = attempts + 1,
    status = CASE WHEN (:m)::int = 1 THEN 'verified'::"VerificationStatus"
                  WHEN attempts + 1 >= max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                  ELSE status END,
    used_at = CASE WHEN (:m)::int = 1 THEN now() ELSE used_at END
  WHERE id = (:code_id)::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > now()
    AND (EXISTS (SELECT 1 FROM guard) OR EXISTS (SELECT 1 FROM skip))
  RETURNING status::text, attempts, max_attempts AS "maxAttempts", used_at AS "usedAt",
    delivery_provider AS "deliveryProvider"
)
SELECT u.status, u.attempts, u."maxAttempts", u."usedAt", u."deliveryProvider",
       EXISTS (SELECT 1 FROM target) AS usable,
       EXISTS (SELECT 1 FROM guard) OR EXISTS (SELECT 1 FROM skip) AS admitted
FROM (SELECT 1) AS one LEFT JOIN updated AS u ON true;
