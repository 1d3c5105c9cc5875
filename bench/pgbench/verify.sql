-- The verify's database work, as OtpService.check() → PrismaOtpRepository issues it
-- (src/otp/prisma-otp.repository.ts): findNewest (SELECT of the newest code for phone + purpose),
-- then recordAttempt (one conditional UPDATE … RETURNING), each its own autocommit statement: two
-- round trips, like the service. The rows are pre-seeded by bench/run.mjs (:rows pending codes,
-- phones +23324 8xxxxxx); :m = 0 is the wrong-code path (attempts + 1), which keeps rows pending so
-- every transaction does the full UPDATE (a right code costs the same UPDATE).
\set n 8000000 + random(1, :rows)
\set m 0
SELECT id AS code_id, phone, purpose, code_hash AS "codeHash", hash_key_id AS "hashKeyId", status, attempts,
       max_attempts AS "maxAttempts", expires_at AS "expiresAt"
FROM one_time_codes WHERE phone = '+23324' || lpad((:n)::text, 7, '0') AND purpose = 'login'
ORDER BY created_at DESC LIMIT 1 \gset
UPDATE one_time_codes SET
  attempts = attempts + 1,
  status = CASE WHEN (:m)::int = 1 THEN 'verified'::"VerificationStatus"
                WHEN attempts + 1 >= max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                ELSE status END,
  used_at = CASE WHEN (:m)::int = 1 THEN now() ELSE used_at END
WHERE id = (:code_id)::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > now()
RETURNING status, attempts, max_attempts AS "maxAttempts", used_at AS "usedAt";
