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
      const rows = await this.prisma.$queryRaw<
        { lastIssuedAt: Date | null; canceled: number; jobs: number }[]
      >`
        WITH recent AS (
          SELECT created_at FROM one_time_codes
          WHERE phone = ${code.phone} AND purpose = ${code.purpose} AND status = 'pending'
            AND created_at > ${cooldownStart} AND expires_at > ${code.createdAt}
          ORDER BY created_at DESC LIMIT 1
        ), canceled AS (
          UPDATE one_time_codes SET status = 'canceled', canceled_at = ${code.createdAt}
          WHERE phone = ${code.phone} AND purpose = ${code.purpose} AND status = 'pending'
            AND NOT EXISTS (SELECT 1 FROM recent)
          RETURNING id
        ), inserted AS (
          INSERT INTO one_time_codes (id, phone, purpose, code_hash, hash_key_id, client, locale, max_attempts, expires_at, created_at)
          SELECT ${code.id}::uuid, ${code.phone}, ${code.purpose}, ${code.codeHash}, ${code.hashKeyId}, ${code.client},
                 ${code.locale}, ${code.maxAttempts}, ${code.expiresAt}, ${code.createdAt}
          FROM (SELECT count(*) AS n FROM canceled) AS c
          WHERE NOT EXISTS (SELECT 1 FROM recent)
          RETURNING id
        ), job AS (
          SELECT graphile_worker.add_job(${DELIVER_OTP_TASK}, ${payload}::json, job_key => ${code.id}, max_attempts => 10) AS j
          FROM inserted
        )
        SELECT (SELECT created_at FROM recent) AS "lastIssuedAt",
               (SELECT count(*) FROM canceled)::int AS canceled,
               (SELECT count(*) FROM job)::int AS jobs`;
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
    const rows = await this.prisma.$queryRaw<CodeForVerify[]>`
      SELECT id, phone, purpose, code_hash AS "codeHash", hash_key_id AS "hashKeyId", status, attempts,
             max_attempts AS "maxAttempts", expires_at AS "expiresAt"
      FROM one_time_codes WHERE phone = ${phone} AND purpose = ${purpose}
      ORDER BY created_at DESC LIMIT 1`;
    return rows[0];
  }

  async recordAttempt(id: string, matched: boolean, now: Date): Promise<AttemptResult | undefined> {
    const rows = await this.prisma.$queryRaw<AttemptResult[]>`
      UPDATE one_time_codes SET
        attempts = attempts + 1,
        status = CASE WHEN ${matched} THEN 'verified'::"VerificationStatus"
                      WHEN attempts + 1 >= max_attempts THEN 'max_attempts_reached'::"VerificationStatus"
                      ELSE status END,
        used_at = CASE WHEN ${matched} THEN ${now} ELSE used_at END
      WHERE id = ${id}::uuid AND status = 'pending' AND attempts < max_attempts AND expires_at > ${now}
      RETURNING status, attempts, max_attempts AS "maxAttempts", used_at AS "usedAt"`;
    return rows[0];
  }

  async findById(id: string): Promise<CodeForVerify | undefined> {
    const rows = await this.prisma.$queryRaw<CodeForVerify[]>`
      SELECT id, phone, purpose, code_hash AS "codeHash", hash_key_id AS "hashKeyId", status, attempts,
             max_attempts AS "maxAttempts", expires_at AS "expiresAt"
      FROM one_time_codes WHERE id = ${id}::uuid`;
    return rows[0];
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

function isUniqueViolation(error: unknown): boolean {
  for (
    let e: unknown = error, i = 0;
    e && typeof e === 'object' && i < 5;
    e = (e as { cause?: unknown }).cause, i++
  ) {
    const x = e as { code?: unknown; originalCode?: unknown; kind?: unknown; meta?: { code?: unknown } };
    if (
      x.code === UNIQUE_VIOLATION ||
      x.originalCode === UNIQUE_VIOLATION ||
      x.kind === 'UniqueConstraintViolation'
    )
      return true;
    if (x.code === 'P2002' || x.code === 'P2010') {
      if (JSON.stringify(x.meta ?? {}).includes(UNIQUE_VIOLATION) || x.code === 'P2002') return true;
    }
  }
  return false;
}
