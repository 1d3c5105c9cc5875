import { Inject, Injectable } from '@nestjs/common';
import { otpConfig, type OtpConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { PrismaService } from '../prisma/index.js';

const MARK_DELIVERED = {
  name: 'delivery_mark_delivered',
  text: `
    UPDATE one_time_codes SET delivery_status = 'delivered', delivered_at = COALESCE(delivered_at, $2::timestamptz),
      delivery_updated_at = $2::timestamptz
    WHERE id = $1::uuid AND delivery_status IN ('queued', 'sent')
    RETURNING delivery_provider AS provider, phone, created_at AS "createdAt"`,
};
const MARK_SENT_IN_DOUBT = {
  name: 'delivery_mark_sent_in_doubt',
  text: `
    UPDATE one_time_codes SET delivery_status = 'sent', delivery_provider = $2::text, delivery_error = NULL,
      sent_at = COALESCE(sent_at, $3::timestamptz), delivery_updated_at = $3::timestamptz
    WHERE id = $1::uuid AND delivery_status = 'queued'
    RETURNING phone, created_at AS "createdAt"`,
};
const MARK_FAILED = {
  name: 'delivery_mark_failed',
  text: `
    UPDATE one_time_codes SET delivery_status = 'failed', delivery_error = $2::text, delivery_updated_at = $3::timestamptz
    WHERE id = $1::uuid AND delivery_status IN ('queued', 'sent')
    RETURNING delivery_provider AS provider`,
};

/**
 * The owner of `one_time_codes` (the code row is part of the code core: it moves with otp.crypto.ts
 * and code-generator.ts). Every write to the table goes through here, except the atomic statements
 * that must touch it together with another table in ONE statement, each documented where it lives:
 *  - otp.statements.ts ISSUE and RECORD_ATTEMPT (the send and verify hot paths, with the per-phone
 *    counters, the verify guards and the job queue);
 *  - delivery's DeliveryAttemptsRepository.recordSent (the attempt and the code's status together)
 *    and JobQueueRepository.rekeyAndResend (new digits and the job carrying them together);
 *  - webhooks' DeliveryReportsRepository.apply (receipt, status, attempt and fallback job together).
 *
 * Delivery status moves are conditional UPDATEs that only move forward (queued → sent → delivered →
 * read, or failed), so the worker and provider webhooks cannot undo each other whatever order they
 * run in. The delivery metrics count here, when the UPDATE reports that the row moved: once per code
 * and status, whoever (job, re-run, sweep) made it move.
 */
@Injectable()
export class OneTimeCodesRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
    @Inject(otpConfig.KEY) private readonly otp: OtpConfig,
  ) {}

  async markDelivered(codeId: string, at: Date): Promise<void> {
    const [moved] = await this.prisma.hot<{ provider: string | null; phone: string; createdAt: Date }>(
      MARK_DELIVERED,
      [codeId, at],
      this.prisma.workerPool,
    );
    if (moved)
      this.metrics.deliveryReached('delivered', { ...moved, provider: moved.provider ?? 'none', at });
  }

  /**
   * A code verified while its only attempts were in doubt (a worker died during the provider call):
   * the message did reach the user, so the delivery is `sent` through that provider, never `failed`.
   */
  async markSentInDoubt(codeId: string, provider: string, at: Date): Promise<void> {
    const [moved] = await this.prisma.hot<{ phone: string; createdAt: Date }>(
      MARK_SENT_IN_DOUBT,
      [codeId, provider, at],
      this.prisma.workerPool,
    );
    // Counted as sent (the user got the digits), through the provider that had the attempt.
    if (moved) this.metrics.deliveryReached('sent', { provider, ...moved, at });
  }

  async markFailed(codeId: string, error: string, at: Date): Promise<void> {
    const [moved] = await this.prisma.hot<{ provider: string | null }>(
      MARK_FAILED,
      [codeId, error, at],
      this.prisma.workerPool,
    );
    // OTP_TEST_NUMBERS never reach a provider: not a delivery failure.
    if (moved && error !== 'test_number')
      this.metrics.deliveryFailed({ provider: moved.provider, reason: error });
  }

  /** Reconciliation: accepted sends with no finished delivery, older than `seconds`. */
  async unfinished(olderThanSeconds: number, now: Date): Promise<{ id: string; createdAt: Date }[]> {
    return this.prisma.$queryRaw`
      SELECT id, created_at AS "createdAt" FROM one_time_codes
      WHERE delivery_status = 'queued' AND created_at < ${new Date(now.getTime() - olderThanSeconds * 1000)}
        AND created_at > ${new Date(now.getTime() - 24 * 3600_000)}
      ORDER BY created_at LIMIT 1000`;
  }

  /**
   * Retention: deletes codes past OTP_RETENTION_HOURS that can no longer verify (their delivery
   * attempts cascade). A pending code that has not expired stays, however old.
   * Ownership exception: the codes' wrong codes not yet folded into their (client, phone)'s verify
   * guard (otp's verify_guards) are folded as the codes go, in the same statement.
   */
  async sweep(now: Date): Promise<{ codes: number }> {
    const before = new Date(now.getTime() - this.otp.retentionHours * 3600_000);
    // The codes' wrong codes not yet folded into their (client, phone)'s verify guard are folded as
    // the codes go, in the same statement: the consecutive-failure count (Decision 3) outlives them.
    const [{ codes }] = await this.prisma.$queryRaw<{ codes: number }[]>`
      WITH gone AS (
        DELETE FROM one_time_codes WHERE created_at < ${before} AND (status <> 'pending' OR expires_at < ${now})
        RETURNING client, phone, failed_at
      ), failures AS (
        SELECT client, phone, f FROM gone, unnest(gone.failed_at) AS f
      ), guards AS (
        SELECT g.client, g.phone, coalesce(g.counted_until, '-infinity') AS since FROM verify_guards AS g
        WHERE (g.client, g.phone) IN (SELECT client, phone FROM failures) FOR UPDATE
      ), uncounted AS (
        SELECT f.client, f.phone, count(*)::int AS n FROM failures AS f
        LEFT JOIN guards AS g ON g.client = f.client AND g.phone = f.phone
        WHERE f.f > coalesce(g.since, '-infinity') GROUP BY f.client, f.phone
      ), folded AS (
        INSERT INTO verify_guards AS g (client, phone, consecutive_failures, updated_at)
        SELECT client, phone, n, ${now} FROM uncounted
        ON CONFLICT (client, phone) DO UPDATE SET
          consecutive_failures = g.consecutive_failures + excluded.consecutive_failures, updated_at = excluded.updated_at
      )
      SELECT (SELECT count(*) FROM gone)::int AS codes`;
    return { codes };
  }
}
