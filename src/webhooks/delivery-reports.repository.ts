import { Injectable } from '@nestjs/common';
import {
  enqueueJobSql,
  FALLBACK_JOB_KEY_PREFIX,
  FALLBACK_MAX_ATTEMPTS,
  FALLBACK_TASK,
  sqlLiteral,
} from '../delivery/index.js';
import { Prisma, PrismaService } from '../prisma/index.js';
import { MetricsService } from '../metrics/index.js';
import type { DeliveryReportEffect } from './delivery-status.js';

/** The FALLBACK_TASK job of an `updated` code `u` whose provider `failed.provider` reported a failure. */
const FALLBACK_JOB = enqueueJobSql({
  task: sqlLiteral(FALLBACK_TASK),
  payload: `json_build_object('id', u.id::text, 'failedProvider', failed.provider)`,
  jobKey: `${sqlLiteral(FALLBACK_JOB_KEY_PREFIX)} || u.id::text`,
  maxAttempts: FALLBACK_MAX_ATTEMPTS,
});

export interface DeliveryReport {
  provider: string;
  /** Our ids from the provider's client reference (Sinch message_metadata `codeId:attemptId`). */
  codeId?: string;
  attemptId?: string;
  /** The provider's message id: the report acts only on the attempt that carries it. */
  messageId: string;
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
 *  - `code`: the attempt the report names: the one with this provider's message id, or (to settle
 *    an attempt left in doubt by a crash, which never learnt its message id) the in-doubt attempt
 *    of this provider named by the client reference `codeId:attemptId`. A report acts only when
 *    that attempt is its code's current one (no later attempt went out since) and the code's
 *    message is still this one: a report for an older attempt, another provider's message or
 *    carrying only message_metadata changes nothing;
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
 * Table ownership exception: this one statement writes one_time_codes (OneTimeCodesRepository's),
 * delivery_attempts (DeliveryAttemptsRepository's), the job queue (delivery's) and webhook_receipts
 * (WebhookReceiptsService's) together, so a report is applied exactly once or not at all.
 */
@Injectable()
export class DeliveryReportsRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly metrics: MetricsService,
  ) {}

  async apply(report: DeliveryReport, now: Date): Promise<ReportOutcome> {
    const eventKey = `${report.messageId}:${report.status}`;
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

  /** The reported attempt is its code's current one, and the code's message is the reported one (or none yet). */
  private currentMessage(r: DeliveryReport): Prisma.Sql {
    return Prisma.sql`code.current AND (c.delivery_message_id IS NULL OR c.delivery_message_id = ${r.messageId}::text)`;
  }

  /**
   * The raw provider state and reason go onto the reported attempt; an attempt in doubt learns its
   * message id and is settled (`settled`: sent for a positive report, not_delivered for FAILED).
   */
  private attempt(r: DeliveryReport, from: Prisma.Sql, settled: string | null = 'sent'): Prisma.Sql {
    return Prisma.sql`
      attempt AS (
        UPDATE delivery_attempts a SET provider_status = ${r.status}, error_code = COALESCE(${r.reason ?? null}::text, a.error_code),
          provider_message_id = COALESCE(a.provider_message_id, ${r.messageId}::text),
          outcome = CASE WHEN a.outcome IN ('in_doubt', 'in_flight') THEN COALESCE(${settled}::text, a.outcome) ELSE a.outcome END
        FROM code
        WHERE a.id = code.attempt_id AND EXISTS (SELECT 1 FROM ${from} src WHERE src.id = code.id)
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
          delivery_provider = COALESCE(c.delivery_provider, ${r.provider}::text),
          delivery_message_id = COALESCE(c.delivery_message_id, ${r.messageId}::text),
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
        WHERE c.id = code.id AND EXISTS (SELECT 1 FROM receipt) AND NOT code.settling
          AND c.delivery_status IN ('queued', 'sent') AND ${this.currentMessage(r)}
        RETURNING c.id, c.created_at, c.phone, c.delivery_status <> 'failed' AS fallback
      ), job AS (
        SELECT ${Prisma.raw(FALLBACK_JOB)} AS j
        FROM updated u, (SELECT ${r.provider}::text AS provider) AS failed WHERE u.fallback
      ), ${this.attempt(
        r,
        // An attempt in doubt that the provider failed: recorded (the delivery job, which still
        // holds the digits, then moves on from this provider); no fallback with new digits.
        Prisma.sql`(SELECT id FROM updated UNION ALL
          SELECT code.id FROM code WHERE code.settling AND code.current AND EXISTS (SELECT 1 FROM receipt))`,
        'not_delivered',
      )}
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
      ${this.attempt(r, Prisma.sql`(SELECT code.id FROM code WHERE code.current AND EXISTS (SELECT 1 FROM receipt))`, null)}
      SELECT (SELECT id FROM code)::text AS "codeId", EXISTS (SELECT 1 FROM receipt) AS fresh,
             NULL::timestamptz AS "createdAt", false AS fallback, NULL::text AS phone,
             (SELECT count(*) FROM attempt)::int AS attempts`;
  }

  private withKey(r: DeliveryReport, eventKey: string, now: Date): Prisma.Sql {
    return Prisma.sql`
      named AS (
        SELECT a.id, a.code_id, a.created_at, a.provider_message_id IS NULL AS settling
        FROM delivery_attempts a
        WHERE a.provider = ${r.provider}
          AND (a.provider_message_id = ${r.messageId}::text
            OR (a.id = ${r.attemptId ?? null}::uuid AND a.code_id = ${r.codeId ?? null}::uuid
                AND a.provider_message_id IS NULL AND a.outcome IN ('in_doubt', 'in_flight')))
        ORDER BY a.provider_message_id IS NULL LIMIT 1
      ), code AS (
        SELECT n.code_id AS id, n.id AS attempt_id, n.settling,
          NOT EXISTS (SELECT 1 FROM delivery_attempts b
                      WHERE b.code_id = n.code_id AND b.id <> n.id AND b.created_at > n.created_at
                        AND b.outcome IN ('in_flight', 'in_doubt', 'sent', 'delivered', 'not_delivered')) AS current
        FROM named n
      ), receipt AS (
        INSERT INTO webhook_receipts (provider, kind, value, received_at)
        SELECT ${r.provider}, 'event', ${eventKey}, ${now}::timestamptz FROM code
        ON CONFLICT DO NOTHING
        RETURNING value
      )`;
  }
}
