import { Injectable } from '@nestjs/common';
import { MetricsService, type QueueStats } from '../metrics/index.js';
import { PrismaService } from '../prisma/index.js';
import { DELIVER_OTP_TASK, FALLBACK_TASK } from './queue/queue.contract.js';

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
            WHERE ${UNHEALTHY}) AS unhealthy,
           (SELECT coalesce(json_object_agg(provider, paused_until), '{}'::json) FROM provider_states
            WHERE paused_until > $2::timestamptz) AS paused
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
  /** Provider → end of its pause (it asked us to wait: a provider-wide rate limit). */
  paused: Map<string, Date>;
}

export type AttemptOutcome =
  | 'in_flight'
  | 'sent'
  | 'delivered'
  | 'not_delivered'
  | 'retryable_error'
  | 'rate_limited_error'
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
   * here: the message may or may not have gone out; the same digits are sent again, other
   * providers first), the providers that already took the message in an earlier run, the
   * providers to skip now (see UNHEALTHY) and the providers paused by a rate limit.
   */
  async prepare(codeId: string, now: Date): Promise<PreparedDelivery | undefined> {
    const rows = await this.prisma.hot<
      DeliveryTarget & {
        inDoubt: string[];
        tookIt: string[];
        unhealthy: Record<string, string>;
        paused: Record<string, string>;
      }
    >(PREPARE, [codeId, now], this.prisma.workerPool);
    const row = rows[0];
    if (!row) return undefined;
    const { inDoubt, tookIt, unhealthy, paused, ...target } = row;
    return {
      target,
      inDoubt: new Set(inDoubt),
      tookIt: new Set(tookIt),
      unhealthy: new Map(Object.entries(unhealthy ?? {})),
      paused: new Map(Object.entries(paused ?? {}).map(([p, until]) => [p, new Date(until)])),
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

  /**
   * Fallback after a provider reported failure: new digits for the still-pending code and the
   * job that sends them (their ciphertext), in ONE statement, so the stored hash and the digits
   * on their way never disagree. Nothing while an earlier fallback send of this code is queued or
   * running (a re-run of the fallback job must not change the digits under it).
   */
  async rekeyAndResend(
    codeId: string,
    rekey: { codeHash: string; hashKeyId: string },
    task: string,
    payload: object,
    jobKey: string,
    now: Date,
  ): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      WITH k AS (
        UPDATE one_time_codes SET code_hash = ${rekey.codeHash}, hash_key_id = ${rekey.hashKeyId}
        WHERE id = ${codeId}::uuid AND status = 'pending' AND expires_at > ${now}
          AND delivery_status IN ('queued', 'sent')
          AND NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs WHERE key = ${jobKey})
        RETURNING id
      )
      SELECT (graphile_worker.add_job(${task}::text, ${JSON.stringify(payload)}::json, job_key => ${jobKey}::text,
        max_attempts => 10)).id::text AS id FROM k`;
    return rows.length === 1;
  }

  /**
   * The engine's own finding (e.g. `misconfigured` after a 401). The time of the last state a
   * webhook reported (details.observedAt) is kept, so an old webhook event replayed afterwards is
   * still older than it and changes nothing.
   */
  async setProviderState(provider: string, state: string, details: Record<string, unknown>): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO provider_states AS p (provider, state, details, updated_at) VALUES (${provider}, ${state}, ${JSON.stringify(details)}::jsonb, now())
      ON CONFLICT (provider) DO UPDATE SET state = EXCLUDED.state, updated_at = now(),
        details = EXCLUDED.details || jsonb_strip_nulls(jsonb_build_object('observedAt', p.details -> 'observedAt'))`;
  }

  /**
   * A provider asked us to wait (a provider-wide rate limit): every delivery skips it until
   * `until` (a later pause wins; a shorter one never shortens it).
   */
  async pauseProvider(provider: string, until: Date): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO provider_states (provider, state, details, updated_at, paused_until)
      VALUES (${provider}, 'healthy', '{}'::jsonb, now(), ${until}::timestamptz)
      ON CONFLICT (provider) DO UPDATE SET
        paused_until = GREATEST(provider_states.paused_until, EXCLUDED.paused_until)`;
  }

  /**
   * Runs this code's delivery job again at `runAt` (a provider asked us to wait), with the same
   * encrypted payload, so the same digits go out. The running job, which holds the key, gives it
   * up to the new one (graphile-worker's add_job on a locked job) and then completes.
   */
  async reschedule(task: string, payload: object, jobKey: string, runAt: Date): Promise<void> {
    await this.prisma.$executeRaw`
      SELECT graphile_worker.add_job(${task}::text, ${JSON.stringify(payload)}::json, job_key => ${jobKey}::text,
        run_at => ${runAt}::timestamptz, max_attempts => 10)`;
  }

  /**
   * Renews the locks of the jobs this process's workers hold (their heartbeat): a lock that is
   * not renewed for DELIVERY_LOCK_TIMEOUT_SECONDS belongs to a dead process and is released.
   */
  async renewLocks(workerIds: string[]): Promise<number> {
    if (workerIds.length === 0) return 0;
    return this.prisma.$executeRaw`
      UPDATE graphile_worker._private_jobs SET locked_at = now()
      WHERE locked_by = ANY(${workerIds}::text[]) AND locked_at IS NOT NULL`;
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
    const keys = await this.prisma.$executeRaw`DELETE FROM idempotency_keys WHERE expires_at < ${now}`;
    const receipts = await this.prisma.$executeRaw`
      DELETE FROM webhook_receipts WHERE received_at < ${new Date(now.getTime() - 3600_000)}`;
    // Per-phone limit rows (API.md A2, Decision 3). A send counter goes once its whole rolling hour
    // has passed. A verify guard goes only when it holds nothing that still counts: no consecutive
    // failure (that count resets only on a success, and after the cap each failure re-arms the
    // lockout, so erasing it would hand an attacker a fresh budget), no running lockout, and no
    // code left whose failures it discounts (created before its counted_until: without the row they
    // would count again). Guards exist only for (client, phone)s that reached the cap or succeeded
    // after wrong codes, so keeping the failing ones stays bounded.
    const hourAgo = new Date(now.getTime() - 3600_000);
    const sendCounters = await this.prisma.$executeRaw`
      DELETE FROM phone_send_counters WHERE updated_at < ${hourAgo}`;
    const verifyGuards = await this.prisma.$executeRaw`
      DELETE FROM verify_guards AS g
      WHERE g.consecutive_failures = 0 AND g.updated_at < ${hourAgo}
        AND (g.locked_until IS NULL OR g.locked_until < ${now})
        AND NOT EXISTS (
          SELECT 1 FROM one_time_codes AS c
          WHERE c.phone = g.phone AND c.client = g.client AND c.created_at <= g.counted_until
            AND cardinality(c.failed_at) > 0)`;
    return {
      codes,
      idempotencyKeys: keys,
      webhookReceipts: receipts,
      deadJobs: deadJobs.length,
      sendCounters,
      verifyGuards,
    };
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
