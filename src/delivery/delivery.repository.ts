import { Injectable } from '@nestjs/common';
import { MetricsService, type QueueStats } from '../metrics/metrics.service.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { DELIVER_OTP_TASK, FALLBACK_TASK } from './delivery.constants.js';

/**
 * Providers the router must skip: an EnoSend instance that is not connected, and providers that
 * answered 401/403 in the last 5 minutes (after that they get a fresh try, so fixing a key needs
 * no restart and no manual reset).
 */
const UNHEALTHY = `state NOT IN ('connected', 'healthy')
  AND NOT (state = 'misconfigured' AND updated_at < now() - interval '5 minutes')`;

/** A code and its WhatsApp contact, as DeliveryTarget. */
const TARGET_COLUMNS = `c.phone, c.purpose, c.locale, c.status::text AS status, c.expires_at AS "expiresAt",
  c.created_at AS "createdAt", w.last_inbound_at AS "lastInboundAt", w.opted_out_at AS "optedOutAt",
  c.delivery_status::text AS "deliveryStatus"`;
const TARGET_FROM = 'one_time_codes c LEFT JOIN whatsapp_contacts w ON w.phone = c.phone';

// The statements every delivery runs, as named prepared statements (PrismaService.hot).
const PREPARE = {
  name: 'delivery_prepare',
  text: `
    WITH doubt AS (
      UPDATE delivery_attempts SET outcome = 'in_doubt'
      WHERE code_id = $1::uuid AND outcome = 'in_flight' RETURNING provider
    )
    SELECT ${TARGET_COLUMNS},
           ARRAY(SELECT DISTINCT provider FROM doubt) AS "inDoubt",
           ARRAY(SELECT DISTINCT provider FROM delivery_attempts
                 WHERE code_id = $1::uuid AND outcome IN ('sent', 'delivered', 'not_delivered')) AS "tookIt",
           (SELECT coalesce(json_object_agg(provider, state), '{}'::json) FROM provider_states
            WHERE ${UNHEALTHY}) AS unhealthy
    FROM ${TARGET_FROM}
    WHERE c.id = $1::uuid`,
};
const TARGET = {
  name: 'delivery_target',
  text: `SELECT ${TARGET_COLUMNS} FROM ${TARGET_FROM} WHERE c.id = $1::uuid`,
};
const START_ATTEMPT = {
  name: 'delivery_start_attempt',
  text: `
    INSERT INTO delivery_attempts (id, code_id, provider, outcome, duration_ms)
    SELECT gen_random_uuid(), id, $2::text, 'in_flight', 0 FROM one_time_codes
    WHERE id = $1::uuid AND status = 'pending' AND expires_at > $3::timestamptz
    RETURNING id::text`,
};
const FINISH_ATTEMPT = {
  name: 'delivery_finish_attempt',
  text: `
    UPDATE delivery_attempts SET outcome = $2::text, provider_message_id = COALESCE($3::text, provider_message_id),
      provider_status = $4::text, error_code = $5::text, duration_ms = $6::int
    WHERE id = $1::uuid`,
};
const RECORD_SENT = {
  name: 'delivery_record_sent',
  text: `
    WITH attempt AS (
      UPDATE delivery_attempts SET outcome = 'sent', provider_message_id = $3::text, provider_status = $4::text,
        error_code = NULL, duration_ms = $5::int
      WHERE id = $1::uuid
    )
    UPDATE one_time_codes SET delivery_status = 'sent', delivery_provider = $6::text, delivery_message_id = $3::text,
      delivery_error = NULL, sent_at = COALESCE(sent_at, $7::timestamptz), delivery_updated_at = $7::timestamptz
    WHERE id = $2::uuid AND delivery_status IN ('queued', 'sent', 'failed')
    RETURNING phone, created_at AS "createdAt"`,
};
const MARK_DELIVERED = {
  name: 'delivery_mark_delivered',
  text: `
    UPDATE one_time_codes SET delivery_status = 'delivered', delivered_at = COALESCE(delivered_at, $2::timestamptz),
      delivery_updated_at = $2::timestamptz
    WHERE id = $1::uuid AND delivery_status IN ('queued', 'sent')
    RETURNING delivery_provider AS provider, phone, created_at AS "createdAt"`,
};
const MARK_FAILED = {
  name: 'delivery_mark_failed',
  text: `
    UPDATE one_time_codes SET delivery_status = 'failed', delivery_error = $2::text, delivery_updated_at = $3::timestamptz
    WHERE id = $1::uuid AND delivery_status IN ('queued', 'sent')
    RETURNING delivery_provider AS provider`,
};
/** Delivery jobs only (first sends and fallbacks): never the cron task that may be running. */
const QUEUE_STATS = {
  name: 'delivery_queue_stats',
  text: `
    SELECT count(*)::int AS depth,
      coalesce(extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.locked_at IS NULL AND j.run_at <= now())), 0)::float8
        AS "oldestAgeSeconds"
    FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = ANY($1::text[]) AND j.attempts < j.max_attempts`,
};

export interface DeliveryTarget {
  phone: string;
  purpose: string;
  locale: string | null;
  status: string;
  expiresAt: Date;
  createdAt: Date;
  lastInboundAt: Date | null;
  optedOutAt: Date | null;
  /** queued until a provider took the message (sent, delivered, read) or delivery failed. */
  deliveryStatus: string;
}

export interface PreparedDelivery {
  target: DeliveryTarget;
  /** Providers that may have sent this code already (a worker died during their call). */
  inDoubt: Set<string>;
  /** Providers that took this code's message in an earlier run of the job. */
  tookIt: Set<string>;
  /** Provider → state, for providers to skip now. */
  unhealthy: Map<string, string>;
}

export type AttemptOutcome =
  | 'in_flight'
  | 'sent'
  | 'delivered'
  | 'not_delivered'
  | 'retryable_error'
  | 'permanent_error'
  | 'configuration_error'
  | 'in_doubt'
  | 'skipped';

/**
 * Delivery state in SQL. Every status change is one conditional UPDATE that only moves forward
 * (queued → sent → delivered → read, or failed), so the worker and provider webhooks cannot undo
 * each other whatever order they run in. The delivery metrics count here, when the UPDATE reports
 * that the row moved: once per code and status, whoever (job, re-run, sweep) made it move.
 */
@Injectable()
export class DeliveryRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  async target(codeId: string): Promise<DeliveryTarget | undefined> {
    return (await this.prisma.hot<DeliveryTarget>(TARGET, [codeId], this.prisma.workerPool))[0];
  }

  /**
   * Everything a delivery needs before its first provider call, in one round trip: the code and
   * its contact, the providers a dead worker left an attempt in flight with (marked `in_doubt`
   * here: the message may have gone out, so they are never tried again for this code), and the
   * providers that already took the message in an earlier run, and the providers to skip now
   * (see UNHEALTHY).
   */
  async prepare(codeId: string): Promise<PreparedDelivery | undefined> {
    const rows = await this.prisma.hot<
      DeliveryTarget & { inDoubt: string[]; tookIt: string[]; unhealthy: Record<string, string> }
    >(PREPARE, [codeId], this.prisma.workerPool);
    const row = rows[0];
    if (!row) return undefined;
    const { inDoubt, tookIt, unhealthy, ...target } = row;
    return {
      target,
      inDoubt: new Set(inDoubt),
      tookIt: new Set(tookIt),
      unhealthy: new Map(Object.entries(unhealthy ?? {})),
    };
  }

  /**
   * Records an attempt as in flight before the provider is called (a worker that dies mid-call
   * leaves it so: see prepare), only while the code is still worth sending (pending, not expired):
   * undefined when it is not, and nothing is recorded.
   */
  async startAttempt(codeId: string, provider: string, now: Date): Promise<string | undefined> {
    return (
      await this.prisma.hot<{ id: string }>(START_ATTEMPT, [codeId, provider, now], this.prisma.workerPool)
    )[0]?.id;
  }

  /** A provider that was not tried (circuit open, instance down, misconfigured), as one finished attempt. */
  async recordSkipped(codeId: string, provider: string, reason: string): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO delivery_attempts (id, code_id, provider, outcome, error_code, duration_ms)
      VALUES (gen_random_uuid(), ${codeId}::uuid, ${provider}, 'skipped', ${reason}, 0)`;
  }

  async finishAttempt(
    attemptId: string,
    outcome: AttemptOutcome,
    fields: { providerMessageId?: string; providerStatus?: string; errorCode?: string; durationMs: number },
  ): Promise<void> {
    await this.prisma.hot(
      FINISH_ATTEMPT,
      [
        attemptId,
        outcome,
        fields.providerMessageId ?? null,
        fields.providerStatus ?? null,
        fields.errorCode ?? null,
        Math.round(fields.durationMs),
      ],
      this.prisma.workerPool,
    );
  }

  /** The provider took the message: its attempt and the code's delivery status, in one statement. */
  async recordSent(
    attemptId: string,
    codeId: string,
    sent: { provider: string; providerMessageId: string; providerStatus?: string; durationMs: number },
    at: Date,
  ): Promise<void> {
    const [moved] = await this.prisma.hot<{ phone: string; createdAt: Date }>(
      RECORD_SENT,
      [
        attemptId,
        codeId,
        sent.providerMessageId,
        sent.providerStatus ?? null,
        Math.round(sent.durationMs),
        sent.provider,
        at,
      ],
      this.prisma.workerPool,
    );
    if (moved) this.metrics.deliveryReached('sent', { provider: sent.provider, ...moved, at });
  }

  async markDelivered(codeId: string, at: Date): Promise<void> {
    const [moved] = await this.prisma.hot<{ provider: string | null; phone: string; createdAt: Date }>(
      MARK_DELIVERED,
      [codeId, at],
      this.prisma.workerPool,
    );
    if (moved)
      this.metrics.deliveryReached('delivered', { ...moved, provider: moved.provider ?? 'none', at });
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

  /** Fallback after a provider reported failure: new digits for the still-pending code. */
  async rekey(codeId: string, codeHash: string, hashKeyId: string, now: Date): Promise<boolean> {
    const n = await this.prisma.$executeRaw`
      UPDATE one_time_codes SET code_hash = ${codeHash}, hash_key_id = ${hashKeyId}
      WHERE id = ${codeId}::uuid AND status = 'pending' AND expires_at > ${now} AND delivery_status IN ('queued', 'sent')`;
    return n === 1;
  }

  async setProviderState(provider: string, state: string, details: Record<string, unknown>): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO provider_states (provider, state, details, updated_at) VALUES (${provider}, ${state}, ${JSON.stringify(details)}::jsonb, now())
      ON CONFLICT (provider) DO UPDATE SET state = EXCLUDED.state, details = EXCLUDED.details, updated_at = now()`;
  }

  /** Unlocks jobs held by a worker that died (graphile-worker itself waits 4 hours). */
  async releaseStaleLocks(olderThanSeconds: number): Promise<number> {
    return this.prisma.$executeRaw`
      UPDATE graphile_worker._private_jobs SET locked_at = NULL, locked_by = NULL
      WHERE locked_at IS NOT NULL AND locked_at < now() - make_interval(secs => ${olderThanSeconds})`;
  }

  /** Read at scrape time by whichever replica is scraped (MetricsService's queue gauges). */
  async queueStats(): Promise<QueueStats> {
    return (await this.prisma.hot<QueueStats>(QUEUE_STATS, [[DELIVER_OTP_TASK, FALLBACK_TASK]]))[0];
  }

  /**
   * Retention: deletes codes past OTP_RETENTION_HOURS that can no longer verify (their attempts
   * cascade), old idempotency keys and webhook receipts, and jobs that failed for good (marking
   * their codes' delivery failed, so no undelivered send stays invisible).
   */
  async sweep(now: Date, retentionHours: number): Promise<Record<string, number>> {
    const before = new Date(now.getTime() - retentionHours * 3600_000);
    const deadJobs = await this.prisma.$queryRaw<{ key: string | null }[]>`
      DELETE FROM graphile_worker._private_jobs WHERE attempts >= max_attempts AND locked_at IS NULL RETURNING key`;
    for (const { key } of deadJobs) {
      if (key && /^[0-9a-f-]{36}$/.test(key)) await this.markFailed(key, 'delivery_job_failed', now);
    }
    const codes = await this.prisma.$executeRaw`
      DELETE FROM one_time_codes WHERE created_at < ${before} AND (status <> 'pending' OR expires_at < ${now})`;
    const keys = await this.prisma.$executeRaw`DELETE FROM idempotency_keys WHERE expires_at < ${now}`;
    const receipts = await this.prisma.$executeRaw`
      DELETE FROM webhook_receipts WHERE received_at < ${new Date(now.getTime() - 3600_000)}`;
    return { codes, idempotencyKeys: keys, webhookReceipts: receipts, deadJobs: deadJobs.length };
  }

  /** Reconciliation: accepted sends with no finished delivery, older than `seconds`. */
  async unfinished(olderThanSeconds: number, now: Date): Promise<{ id: string; createdAt: Date }[]> {
    return this.prisma.$queryRaw`
      SELECT id, created_at AS "createdAt" FROM one_time_codes
      WHERE delivery_status = 'queued' AND created_at < ${new Date(now.getTime() - olderThanSeconds * 1000)}
        AND created_at > ${new Date(now.getTime() - 24 * 3600_000)}
      ORDER BY created_at LIMIT 1000`;
  }
}
