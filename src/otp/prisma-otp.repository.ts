import { Injectable } from '@nestjs/common';
import { DELIVER_OTP_TASK } from '../delivery/delivery.constants.js';
import { PrismaService } from '../prisma/prisma.service.js';
import {
  type AttemptResult,
  type CodeForVerify,
  type CodeView,
  type IssueResult,
  type NewCode,
  OtpRepository,
} from './otp.repository.js';

const UNIQUE_VIOLATION = '23505';

const VERIFY_COLUMNS = `id::text, phone, purpose, code_hash AS "codeHash", hash_key_id AS "hashKeyId",
  status::text, attempts, max_attempts AS "maxAttempts", expires_at AS "expiresAt"`;

// The statements of every send and verify, run as named prepared statements (PrismaService.hot).
const ISSUE = {
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
const FIND_NEWEST = {
  name: 'otp_find_newest',
  text: `SELECT ${VERIFY_COLUMNS} FROM one_time_codes WHERE phone = $1 AND purpose = $2 ORDER BY created_at DESC LIMIT 1`,
};
const RECORD_ATTEMPT = {
  name: 'otp_record_attempt',
  text: `
    UPDATE one_time_codes SET
      attempts = attempts + 1,
      status = CASE WHEN $2::boolean THEN 'verified'::"VerificationStatus"
                    WHEN attempts + 1 >= max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                    ELSE status END,
      used_at = CASE WHEN $2::boolean THEN $3::timestamptz ELSE used_at END
    WHERE id = $1::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > $3::timestamptz
    RETURNING status::text, attempts, max_attempts AS "maxAttempts", used_at AS "usedAt"`,
};
const FIND_BY_ID = {
  name: 'otp_find_by_id',
  text: `SELECT ${VERIFY_COLUMNS} FROM one_time_codes WHERE id = $1::uuid`,
};

@Injectable()
export class PrismaOtpRepository extends OtpRepository {
  constructor(private readonly prisma: PrismaService) {
    super();
  }

  /**
   * One statement, so one implicit transaction and one round trip:
   *  1. `recent`: a pending code issued inside the cooldown blocks everything else;
   *  2. `canceled`: otherwise the previous pending code is canceled;
   *  3. `inserted`: the new code is inserted (reading `canceled` first orders the two writes, so
   *     the one-pending-code unique index sees the old row already canceled);
   *  4. `job`: its delivery job is enqueued in graphile-worker's queue, keyed by the code id.
   * A concurrent send for the same phone and purpose loses on the unique index: that is a cooldown.
   */
  async issue(code: NewCode, cooldownSeconds: number): Promise<IssueResult> {
    const cooldownStart = new Date(code.createdAt.getTime() - cooldownSeconds * 1000);
    const payload = JSON.stringify({ id: code.id, c: code.jobPayload });
    try {
      const rows = await this.prisma.hot<{ lastIssuedAt: Date | null; canceled: number; jobs: number }>(
        ISSUE,
        [
          code.id,
          code.phone,
          code.purpose,
          code.codeHash,
          code.hashKeyId,
          code.client,
          code.locale,
          code.maxAttempts,
          code.expiresAt,
          code.createdAt,
          cooldownStart,
          DELIVER_OTP_TASK,
          payload,
        ],
      );
      const row = rows[0];
      if (row.lastIssuedAt) return { kind: 'cooldown', lastIssuedAt: row.lastIssuedAt };
      if (row.jobs !== 1) throw new Error('code inserted without its delivery job');
      return { kind: 'issued', canceledPrevious: row.canceled };
    } catch (error) {
      if (isUniqueViolation(error)) return { kind: 'cooldown', lastIssuedAt: code.createdAt };
      throw error;
    }
  }

  async findNewest(phone: string, purpose: string): Promise<CodeForVerify | undefined> {
    return (await this.prisma.hot<CodeForVerify>(FIND_NEWEST, [phone, purpose]))[0];
  }

  async recordAttempt(id: string, matched: boolean, now: Date): Promise<AttemptResult | undefined> {
    return (await this.prisma.hot<AttemptResult>(RECORD_ATTEMPT, [id, matched, now]))[0];
  }

  async findById(id: string): Promise<CodeForVerify | undefined> {
    return (await this.prisma.hot<CodeForVerify>(FIND_BY_ID, [id]))[0];
  }

  async view(id: string, client: string): Promise<CodeView | undefined> {
    const row = await this.prisma.oneTimeCode.findFirst({
      where: { id, client },
      include: {
        deliveryAttempts: {
          orderBy: { createdAt: 'asc' },
          select: { provider: true, outcome: true, errorCode: true, providerStatus: true, createdAt: true },
        },
      },
    });
    return row ?? undefined;
  }
}

/** PostgreSQL's unique_violation, as pg reports it (the issue statement runs through pg directly). */
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
}
