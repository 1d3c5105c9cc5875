import { Injectable } from '@nestjs/common';
import { FALLBACK_TASK } from '../delivery/delivery.constants.js';
import { Prisma } from '../generated/prisma/client.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PrismaService } from '../prisma/prisma.service.js';
import type { DeliveryReportEffect } from './delivery-status.js';

export interface DeliveryReport {
  provider: string;
  codeId?: string;
  messageId?: string;
  /** Raw provider state and reason code, kept on the matching delivery attempt. */
  status: string;
  reason?: string;
  effect: DeliveryReportEffect;
}

export type ReportOutcome =
  /** No code matches the report (not ours, or already deleted by retention). */
  | { result: 'unknown_message' }
  /** The same event (message id + status) was already processed. */
  | { result: 'duplicate'; codeId: string }
  /** Recorded, but the code's delivery status did not move (out of order, or terminal). */
  | { result: 'unchanged'; codeId: string }
  | { result: 'applied'; codeId: string; createdAt: Date; fallback: boolean };

interface Row {
  codeId: string | null;
  fresh: boolean;
  createdAt: Date | null;
  fallback: boolean | null;
  phone: string | null;
}

/**
 * Applies delivery reports to one_time_codes, each in ONE statement (so one implicit transaction):
 *  - `code`: the report's code, by our id (message_metadata), else by the provider message id on
 *    the code, else on one of its delivery attempts;
 *  - `receipt`: the event (message id + status) is claimed in webhook_receipts; a duplicate
 *    claims nothing and everything below is skipped;
 *  - `updated`: a conditional UPDATE that only moves forward. The enum order of DeliveryStatus is
 *    queued < sent < delivered < read < failed, so `delivery_status < target` refuses going back
 *    and never leaves failed. PostgreSQL re-checks that condition on the newest row version when a
 *    concurrent report updated it first, so concurrent and out-of-order reports are safe;
 *  - `attempt`: the raw provider state and reason go onto the matching delivery attempt;
 *  - `job` (FAILED only): the fallback job, enqueued in the same transaction.
 * A report about a message other than the code's current one (an earlier provider's, after a
 * fallback) never moves the code.
 */
@Injectable()
export class DeliveryReportsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  async apply(report: DeliveryReport, now: Date): Promise<ReportOutcome> {
    const eventKey = `${report.messageId ?? report.codeId ?? ''}:${report.status}`;
    const query =
      report.effect.kind === 'advance'
        ? this.advance(report, report.effect.to, eventKey, now)
        : report.effect.kind === 'failed'
          ? this.failed(report, eventKey, now)
          : this.record(report, eventKey, now);
    const [row] = await this.prisma.$queryRaw<Row[]>(query);
    if (!row?.codeId) return { result: 'unknown_message' };
    if (!row.fresh) return { result: 'duplicate', codeId: row.codeId };
    if (!row.createdAt) return { result: 'unchanged', codeId: row.codeId };
    // The row moved: counted once per code and status (a duplicate or stale report moves nothing).
    if (report.effect.kind === 'advance' && row.phone) {
      this.metrics.deliveryReached(report.effect.to, {
        provider: report.provider,
        phone: row.phone,
        createdAt: row.createdAt,
        at: now,
      });
    } else if (report.effect.kind === 'failed' && row.fallback !== true) {
      this.metrics.deliveryFailed({ provider: report.provider, reason: report.reason ?? report.status });
    }
    return {
      result: 'applied',
      codeId: row.codeId,
      createdAt: row.createdAt,
      fallback: row.fallback === true,
    };
  }

  /** The code's current delivery is the reported message (or it is not known yet). */
  private currentMessage(r: DeliveryReport): Prisma.Sql {
    return Prisma.sql`(${r.messageId ?? null}::text IS NULL OR c.delivery_message_id IS NULL
      OR c.delivery_message_id = ${r.messageId ?? null}::text)`;
  }

  private attempt(r: DeliveryReport, from: Prisma.Sql): Prisma.Sql {
    return Prisma.sql`
      attempt AS (
        UPDATE delivery_attempts a SET provider_status = ${r.status}, error_code = COALESCE(${r.reason ?? null}::text, a.error_code)
        FROM ${from} src
        WHERE a.code_id = src.id AND a.provider = ${r.provider} AND a.provider_message_id = ${r.messageId ?? null}::text
        RETURNING a.id
      )`;
  }

  private advance(r: DeliveryReport, to: string, eventKey: string, now: Date): Prisma.Sql {
    return Prisma.sql`
      WITH ${this.withKey(r, eventKey, now)},
      updated AS (
        UPDATE one_time_codes c SET
          delivery_status = ${to}::"DeliveryStatus",
          sent_at = COALESCE(c.sent_at, ${now}::timestamptz),
          delivered_at = CASE WHEN ${to}::"DeliveryStatus" >= 'delivered' THEN COALESCE(c.delivered_at, ${now}::timestamptz) ELSE c.delivered_at END,
          read_at = CASE WHEN ${to}::"DeliveryStatus" = 'read' THEN COALESCE(c.read_at, ${now}::timestamptz) ELSE c.read_at END,
          delivery_updated_at = ${now}::timestamptz
        FROM code
        WHERE c.id = code.id AND EXISTS (SELECT 1 FROM receipt)
          AND c.delivery_status < ${to}::"DeliveryStatus" AND ${this.currentMessage(r)}
        RETURNING c.id, c.created_at, c.phone
      ), ${this.attempt(r, Prisma.sql`updated`)}
      SELECT (SELECT id FROM code)::text AS "codeId", EXISTS (SELECT 1 FROM receipt) AS fresh,
             (SELECT created_at FROM updated) AS "createdAt", false AS fallback, (SELECT phone FROM updated) AS phone,
             (SELECT count(*) FROM attempt)::int AS attempts`;
  }

  /**
   * FAILED: while the code can still be verified, the next provider is asked for through the job
   * queue and the delivery status stays as it is until the worker decides; otherwise the delivery
   * is failed for good. Either way the reason is kept. Never after delivered or read.
   */
  private failed(r: DeliveryReport, eventKey: string, now: Date): Prisma.Sql {
    const reason = r.reason ?? r.status;
    return Prisma.sql`
      WITH ${this.withKey(r, eventKey, now)},
      updated AS (
        UPDATE one_time_codes c SET
          delivery_status = CASE WHEN c.status = 'pending' AND c.expires_at > ${now}::timestamptz
                                 THEN c.delivery_status ELSE 'failed' END,
          delivery_error = ${reason},
          delivery_updated_at = ${now}::timestamptz
        FROM code
        WHERE c.id = code.id AND EXISTS (SELECT 1 FROM receipt)
          AND c.delivery_status IN ('queued', 'sent') AND ${this.currentMessage(r)}
        RETURNING c.id, c.created_at, c.phone, c.delivery_status <> 'failed' AS fallback
      ), job AS (
        SELECT graphile_worker.add_job(
          ${FALLBACK_TASK},
          json_build_object('id', u.id::text, 'failedProvider', ${r.provider}::text),
          job_key => 'fallback:' || u.id::text,
          max_attempts => 5
        ) AS j
        FROM updated u WHERE u.fallback
      ), ${this.attempt(r, Prisma.sql`updated`)}
      -- A plain SELECT CTE only runs when referenced: counting job is what enqueues it.
      SELECT (SELECT id FROM code)::text AS "codeId", EXISTS (SELECT 1 FROM receipt) AS fresh,
             (SELECT created_at FROM updated) AS "createdAt", (SELECT fallback FROM updated) AS fallback,
             (SELECT phone FROM updated) AS phone,
             (SELECT count(*) FROM job)::int AS jobs, (SELECT count(*) FROM attempt)::int AS attempts`;
  }

  /** SWITCHING_CHANNEL and the like: the code does not move; the attempt keeps the raw state. */
  private record(r: DeliveryReport, eventKey: string, now: Date): Prisma.Sql {
    return Prisma.sql`
      WITH ${this.withKey(r, eventKey, now)},
      ${this.attempt(r, Prisma.sql`(SELECT code.id FROM code WHERE EXISTS (SELECT 1 FROM receipt))`)}
      SELECT (SELECT id FROM code)::text AS "codeId", EXISTS (SELECT 1 FROM receipt) AS fresh,
             NULL::timestamptz AS "createdAt", false AS fallback, NULL::text AS phone,
             (SELECT count(*) FROM attempt)::int AS attempts`;
  }

  private withKey(r: DeliveryReport, eventKey: string, now: Date): Prisma.Sql {
    return Prisma.sql`
      code AS (
        SELECT m.id FROM (
          SELECT id, 1 AS p FROM one_time_codes WHERE id = ${r.codeId ?? null}::uuid
          UNION ALL
          SELECT id, 2 FROM one_time_codes
          WHERE delivery_message_id = ${r.messageId ?? null}::text
            AND (delivery_provider IS NULL OR delivery_provider = ${r.provider})
          UNION ALL
          SELECT code_id, 3 FROM delivery_attempts
          WHERE provider_message_id = ${r.messageId ?? null}::text AND provider = ${r.provider}
        ) m ORDER BY m.p LIMIT 1
      ), receipt AS (
        INSERT INTO webhook_receipts (provider, kind, value, received_at)
        SELECT ${r.provider}, 'event', ${eventKey}, ${now}::timestamptz FROM code
        ON CONFLICT DO NOTHING
        RETURNING value
      )`;
  }
}
