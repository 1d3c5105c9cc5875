import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service.js';

export interface DeliveryTarget {
  phone: string;
  purpose: string;
  locale: string | null;
  status: string;
  expiresAt: Date;
  createdAt: Date;
  lastInboundAt: Date | null;
  optedOutAt: Date | null;
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
 * each other whatever order they run in.
 */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  async target(codeId: string): Promise<DeliveryTarget | undefined> {
    const rows = await this.prisma.$queryRaw<DeliveryTarget[]>`
      SELECT c.phone, c.purpose, c.locale, c.status::text AS status, c.expires_at AS "expiresAt",
             c.created_at AS "createdAt", w.last_inbound_at AS "lastInboundAt", w.opted_out_at AS "optedOutAt"
      FROM one_time_codes c LEFT JOIN whatsapp_contacts w ON w.phone = c.phone
      WHERE c.id = ${codeId}::uuid`;
    return rows[0];
  }

  /** Still worth sending: pending (not verified, burnt or replaced) and unexpired. */
  async deliverable(codeId: string, now: Date): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ ok: boolean }[]>`
      SELECT (status = 'pending' AND expires_at > ${now}) AS ok FROM one_time_codes WHERE id = ${codeId}::uuid`;
    return rows[0]?.ok === true;
  }

  /** Providers with an attempt left in flight by a worker that died: the message may have gone out. */
  async inDoubtProviders(codeId: string): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ provider: string }[]>`
      UPDATE delivery_attempts SET outcome = 'in_doubt'
      WHERE code_id = ${codeId}::uuid AND outcome = 'in_flight' RETURNING provider`;
    return [...new Set(rows.map((r) => r.provider))];
  }

  async startAttempt(codeId: string, provider: string): Promise<string> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      INSERT INTO delivery_attempts (id, code_id, provider, outcome, duration_ms)
      VALUES (gen_random_uuid(), ${codeId}::uuid, ${provider}, 'in_flight', 0) RETURNING id`;
    return rows[0].id;
  }

  async finishAttempt(
    attemptId: string,
    outcome: AttemptOutcome,
    fields: { providerMessageId?: string; providerStatus?: string; errorCode?: string; durationMs: number },
  ): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE delivery_attempts SET outcome = ${outcome}, provider_message_id = COALESCE(${fields.providerMessageId ?? null}, provider_message_id),
        provider_status = ${fields.providerStatus ?? null}, error_code = ${fields.errorCode ?? null},
        duration_ms = ${Math.round(fields.durationMs)}
      WHERE id = ${attemptId}::uuid`;
  }

  async markSent(codeId: string, provider: string, messageId: string, at: Date): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE one_time_codes SET delivery_status = 'sent', delivery_provider = ${provider}, delivery_message_id = ${messageId},
        delivery_error = NULL, sent_at = COALESCE(sent_at, ${at}), delivery_updated_at = ${at}
      WHERE id = ${codeId}::uuid AND delivery_status IN ('queued', 'sent', 'failed')`;
  }

  async markDelivered(codeId: string, at: Date): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE one_time_codes SET delivery_status = 'delivered', delivered_at = COALESCE(delivered_at, ${at}), delivery_updated_at = ${at}
      WHERE id = ${codeId}::uuid AND delivery_status IN ('queued', 'sent')`;
  }

  async markFailed(codeId: string, error: string, at: Date): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE one_time_codes SET delivery_status = 'failed', delivery_error = ${error}, delivery_updated_at = ${at}
      WHERE id = ${codeId}::uuid AND delivery_status IN ('queued', 'sent')`;
  }

  /** Fallback after a provider reported failure: new digits for the still-pending code. */
  async rekey(codeId: string, codeHash: string, hashKeyId: string, now: Date): Promise<boolean> {
    const n = await this.prisma.$executeRaw`
      UPDATE one_time_codes SET code_hash = ${codeHash}, hash_key_id = ${hashKeyId}
      WHERE id = ${codeId}::uuid AND status = 'pending' AND expires_at > ${now} AND delivery_status IN ('queued', 'sent')`;
    return n === 1;
  }

  /**
   * Providers the router must skip: an EnoSend instance that is not connected, and providers that
   * answered 401/403 in the last 5 minutes (after that they get a fresh try, so fixing a key needs
   * no restart and no manual reset).
   */
  async unhealthyProviders(): Promise<Map<string, string>> {
    const rows = await this.prisma.$queryRaw<{ provider: string; state: string }[]>`
      SELECT provider, state FROM provider_states
      WHERE state NOT IN ('connected', 'healthy')
        AND NOT (state = 'misconfigured' AND updated_at < now() - interval '5 minutes')`;
    return new Map(rows.map((r) => [r.provider, r.state]));
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

  async queueDepth(): Promise<number> {
    const rows = await this.prisma.$queryRaw<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM graphile_worker._private_jobs`;
    return rows[0].n;
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
