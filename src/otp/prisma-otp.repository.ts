import { Injectable } from '@nestjs/common';
import { DELIVER_OTP_TASK } from '../delivery/index.js';
import { PrismaService } from '../prisma/index.js';
import {
  type AttemptOutcome,
  type AttemptResult,
  type CodeForVerify,
  type CodeView,
  type IssueResult,
  type NewCode,
  OtpRepository,
  type SendLimit,
  type VerifyLimits,
  type VerifyLimitsState,
  type VerifyLookup,
} from './otp.repository.js';
import {
  FIND_BY_ID,
  FIND_NEWEST,
  ISSUE,
  RECORD_ATTEMPT,
  RECORD_ATTEMPT_FAST,
  SEND_WINDOW,
  VERIFY_LIMITS,
} from './otp.statements.js';

const UNIQUE_VIOLATION = '23505';
/** The rolling window of the per-phone limits (API.md A2: any 60-minute span). */
export const SEND_WINDOW_MS = 3_600_000;
/** Tries of the issue statement when concurrent sends collide on the unique index. */
const MAX_ISSUE_TRIES = 5;

interface IssueRow {
  lockedUntil: Date | null;
  lastIssuedAt: Date | null;
  canceled: number;
  jobs: number;
}
type LookupRow = { [K in keyof CodeForVerify]: CodeForVerify[K] | null } & { lockedUntil: Date | null };
interface AttemptRow {
  status: AttemptResult['status'] | null;
  attempts: number | null;
  maxAttempts: number | null;
  usedAt: Date | null;
  deliveryProvider: string | null;
}

@Injectable()
export class PrismaOtpRepository extends OtpRepository {
  constructor(private readonly prisma: PrismaService) {
    super();
  }

  /**
   * One statement, so one implicit transaction and one round trip (otp.statements.ts ISSUE): the
   * lockout, the client's cooldown, the per-phone send limit counted on its locked counter row, the
   * cancel of the client's previous pending code, the insert and the delivery job. A concurrent
   * send for the same client, phone and purpose loses on the unique index and rolls back whole; it
   * is retried, and its fresh snapshot then sees the winner (cooldown, or a counter one fuller).
   */
  async issue(code: NewCode, cooldownSeconds: number, limit: SendLimit): Promise<IssueResult> {
    const cooldownStart = new Date(code.createdAt.getTime() - cooldownSeconds * 1000);
    const windowStart = new Date(code.createdAt.getTime() - SEND_WINDOW_MS);
    const counterKey = limit.scope === 'client' ? `${code.client}|${code.phone}` : code.phone;
    const payload = JSON.stringify({ id: code.id, c: code.jobPayload });
    const values = [
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
      counterKey,
      windowStart,
      limit.limit,
    ];
    for (let attempt = 1; ; attempt++) {
      let row: IssueRow;
      try {
        row = (await this.prisma.hot<IssueRow>(ISSUE, values))[0];
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (attempt < MAX_ISSUE_TRIES) continue;
        return { kind: 'cooldown', lastIssuedAt: code.createdAt };
      }
      if (row.lockedUntil) return { kind: 'locked', lockedUntil: row.lockedUntil };
      if (row.lastIssuedAt) return { kind: 'cooldown', lastIssuedAt: row.lastIssuedAt };
      if (row.jobs === 1) return { kind: 'issued', canceledPrevious: row.canceled };
      // Refused by the per-phone limit: only now read what fills the window (for Retry-After).
      const window = (
        await this.prisma.hot<{ sentAt: Date[]; sentBy: string[] }>(SEND_WINDOW, [counterKey, windowStart])
      )[0];
      return { kind: 'limited', sentAt: window?.sentAt ?? [], sentBy: window?.sentBy ?? [] };
    }
  }

  async findNewest(phone: string, purpose: string, client: string): Promise<VerifyLookup> {
    const row = (await this.prisma.hot<LookupRow>(FIND_NEWEST, [phone, purpose, client]))[0];
    const { lockedUntil, ...code } = row;
    return {
      code: code.id === null ? undefined : (code as CodeForVerify),
      lockedUntil: lockedUntil ?? undefined,
    };
  }

  async verifyLimits(phone: string, client: string, windowStart: Date): Promise<VerifyLimitsState> {
    const row = (
      await this.prisma.hot<{ lockedUntil: Date | null; recentFailures: Date[] }>(VERIFY_LIMITS, [
        phone,
        client,
        windowStart,
      ])
    )[0];
    return { lockedUntil: row.lockedUntil ?? undefined, recentFailures: row.recentFailures };
  }

  async recordAttempt(
    code: { id: string; phone: string; client: string },
    matched: boolean,
    now: Date,
    limits: VerifyLimits,
  ): Promise<AttemptOutcome> {
    const values = [
      code.id,
      matched,
      now,
      code.client,
      code.phone,
      limits.windowStart,
      limits.perHour,
      limits.maxConsecutiveFailures,
      limits.lockoutUntil,
    ];
    // The common case in one plain UPDATE (it takes no lockout end: $1-$8); the full statement
    // only when it declines.
    const row =
      (await this.prisma.hot<AttemptRow>(RECORD_ATTEMPT_FAST, values.slice(0, 8)))[0] ??
      (await this.prisma.hot<AttemptRow>(RECORD_ATTEMPT, values))[0];
    if (row.status !== null) {
      const { status, attempts, maxAttempts, usedAt, deliveryProvider } = row;
      return {
        kind: 'counted',
        result: { status, attempts, maxAttempts, usedAt, deliveryProvider } as AttemptResult,
      };
    }
    return { kind: 'not_counted' };
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
