/**
 * The SQL of every send and verify, run as named prepared statements (PrismaService.hot). A module
 * of its own, without imports, so the benchmark's bare server (bench/bare-server.mjs) runs exactly
 * these statements.
 */
const VERIFY_COLUMNS = `id::text, phone, purpose, code_hash AS "codeHash", hash_key_id AS "hashKeyId",
  status::text, attempts, max_attempts AS "maxAttempts", expires_at AS "expiresAt"`;

export const ISSUE = {
  name: 'otp_issue',
  text: `
    WITH recent AS (
      SELECT created_at FROM one_time_codes
      WHERE phone = $2 AND purpose = $3 AND status = 'pending' AND created_at > $11 AND expires_at > $10
      ORDER BY created_at DESC LIMIT 1
    ), canceled AS (
      UPDATE one_time_codes SET status = 'canceled', canceled_at = $10
      WHERE phone = $2 AND purpose = $3 AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM recent)
      RETURNING id
    ), inserted AS (
      INSERT INTO one_time_codes (id, phone, purpose, code_hash, hash_key_id, client, locale, max_attempts, expires_at, created_at)
      SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::int, $9::timestamptz, $10::timestamptz
      FROM (SELECT count(*) AS n FROM canceled) AS c
      WHERE NOT EXISTS (SELECT 1 FROM recent)
      RETURNING id
    ), job AS (
      SELECT graphile_worker.add_job($12::text, $13::json, job_key => $1::text, max_attempts => 10) AS j
      FROM inserted
    )
    SELECT (SELECT created_at FROM recent) AS "lastIssuedAt",
           (SELECT count(*) FROM canceled)::int AS canceled,
           (SELECT count(*) FROM job)::int AS jobs`,
};
export const FIND_NEWEST = {
  name: 'otp_find_newest',
  text: `SELECT ${VERIFY_COLUMNS} FROM one_time_codes WHERE phone = $1 AND purpose = $2 ORDER BY created_at DESC LIMIT 1`,
};
export const RECORD_ATTEMPT = {
  name: 'otp_record_attempt',
  text: `
    UPDATE one_time_codes SET
      attempts = attempts + 1,
      status = CASE WHEN $2::boolean THEN 'verified'::"VerificationStatus"
                    WHEN attempts + 1 >= max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                    ELSE status END,
      used_at = CASE WHEN $2::boolean THEN $3::timestamptz ELSE used_at END
    WHERE id = $1::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > $3::timestamptz
    RETURNING status::text, attempts, max_attempts AS "maxAttempts", used_at AS "usedAt",
      delivery_provider AS "deliveryProvider"`,
};
export const FIND_BY_ID = {
  name: 'otp_find_by_id',
  text: `SELECT ${VERIFY_COLUMNS} FROM one_time_codes WHERE id = $1::uuid`,
};
