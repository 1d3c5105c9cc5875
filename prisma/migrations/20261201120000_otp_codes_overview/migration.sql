-- otp_codes_overview: one row per code, for operators in Prisma Studio (docs/prisma-studio.md).
-- The operator's columns come first, and `status` is the *effective* status: a pending code past
-- its expiry reads `expired` here, as it does in the API (one_time_codes stores expiry lazily).
-- Read-only by construction (it has a CASE column); no hash, no key fingerprint.
-- Prisma Migrate does not manage views: the `view` block in schema.prisma describes this one.
CREATE VIEW "otp_codes_overview" AS
SELECT
  CASE WHEN c.status = 'pending' AND c.expires_at <= now()
       THEN 'expired'::"VerificationStatus" ELSE c.status END AS "status",
  c.phone,
  c.purpose,
  c.client,
  c.expires_at,
  c.attempts,
  c.max_attempts,
  c.delivery_status,
  c.delivery_provider,
  c.delivery_error,
  c.created_at,
  c.sent_at,
  c.delivered_at,
  c.read_at,
  c.used_at,
  c.canceled_at,
  c.status AS stored_status,
  c.id
FROM one_time_codes c;
