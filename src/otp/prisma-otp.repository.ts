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
import { FIND_BY_ID, FIND_NEWEST, ISSUE, RECORD_ATTEMPT } from './otp.statements.js';

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
