import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/index.js';
import { PrismaService } from '../prisma/index.js';

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

/** `outcome` of a delivery_attempts row (prisma/schema.prisma). */
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

/** How a finished attempt is recorded (outcome set apart). */
export interface AttemptFields {
  providerMessageId?: string;
  providerStatus?: string;
  errorCode?: string;
  durationMs: number;
}

/**
 * The owner of `delivery_attempts`: one row per try at handing a code to one provider. It reads
 * the code, its contact and the provider states (owned elsewhere) to prepare a delivery; its only
 * write to another table is recordSent (see there). Attempts are deleted with their code (ON DELETE
 * CASCADE, OneTimeCodesRepository.sweep); webhooks' DeliveryReportsRepository updates the attempt a
 * report names inside its one statement (documented there).
 */
@Injectable()
export class DeliveryAttemptsRepository {
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

  async finishAttempt(attemptId: string, outcome: AttemptOutcome, fields: AttemptFields): Promise<void> {
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

  /**
   * The provider took the message: its attempt and the code's delivery status, in ONE statement.
   * Ownership exception (one_time_codes belongs to OneTimeCodesRepository): split in two, a worker
   * dying between them would leave an attempt `sent` under a code still `queued`, and the re-run
   * would hand the same code to another provider.
   */
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
}
