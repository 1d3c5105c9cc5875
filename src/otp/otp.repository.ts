import type { DeliveryStatus, VerificationStatus } from '../prisma/index.js';

export interface NewCode {
  id: string;
  phone: string;
  purpose: string;
  codeHash: string;
  hashKeyId: string;
  client: string;
  locale: string | null;
  maxAttempts: number;
  createdAt: Date;
  expiresAt: Date;
  /** Encrypted delivery job payload, enqueued in the same statement as the code. */
  jobPayload: string;
}

/** The per-phone send limit (API.md A2, Decisions 1-2), counted in the issuing statement. */
export interface SendLimit {
  /** Sends per rolling hour; 0 turns the limit off. */
  limit: number;
  /** `phone`: across clients and purposes (default); `client`: per (client, phone). */
  scope: 'phone' | 'client';
}

export type IssueResult =
  | { kind: 'issued'; canceledPrevious: number }
  /** A pending code of this client for the same phone and purpose was issued too recently. */
  | { kind: 'cooldown'; lastIssuedAt: Date }
  /** The (client, phone) is locked out after too many consecutive failures. */
  | { kind: 'locked'; lockedUntil: Date }
  /** The phone's send limit is reached; the sends of the window, oldest first, and who made them. */
  | { kind: 'limited'; sentAt: Date[]; sentBy: string[] };

/** What verification reads before comparing: the client's newest code and the (client, phone)'s lockout. */
export interface VerifyLookup {
  code?: CodeForVerify;
  /** Locked out after too many consecutive failures, until then (or undefined). */
  lockedUntil?: Date;
}

/** The (client, phone)'s verify limits as they stand, read after a refusal (for Retry-After). */
export interface VerifyLimitsState {
  lockedUntil?: Date;
  /** Wrong codes of the rolling window, oldest first. */
  recentFailures: Date[];
}

/** The per-(client, phone) verify limits (API.md A2, Decision 3). */
export interface VerifyLimits {
  /** Wrong codes per rolling hour; 0 turns the limit off. */
  perHour: number;
  windowStart: Date;
  maxConsecutiveFailures: number;
  lockoutUntil: Date;
}

/** The fields verification needs from the newest code of a phone and purpose. */
export interface CodeForVerify {
  id: string;
  phone: string;
  purpose: string;
  codeHash: string;
  hashKeyId: string;
  status: VerificationStatus;
  attempts: number;
  maxAttempts: number;
  expiresAt: Date;
}

export type AttemptOutcome =
  | { kind: 'counted'; result: AttemptResult }
  /**
   * Nothing counted: the code can no longer take a try (used, replaced, expired or burnt meanwhile),
   * or the (client, phone)'s limits refused (a lockout, or the verify limit, reached before or
   * meanwhile). The caller tells which from the code's current state.
   */
  | { kind: 'not_counted' };

export interface AttemptResult {
  status: VerificationStatus;
  attempts: number;
  maxAttempts: number;
  usedAt: Date | null;
  /** The provider that carried the code (conversion metrics); null if none took it. */
  deliveryProvider: string | null;
}

export interface CodeView {
  id: string;
  phone: string;
  purpose: string;
  client: string;
  status: VerificationStatus;
  attempts: number;
  maxAttempts: number;
  expiresAt: Date;
  usedAt: Date | null;
  createdAt: Date;
  deliveryStatus: DeliveryStatus;
  deliveryProvider: string | null;
  deliveryError: string | null;
  deliveryUpdatedAt: Date | null;
  deliveryAttempts: {
    provider: string;
    outcome: string;
    errorCode: string | null;
    providerStatus: string | null;
    createdAt: Date;
  }[];
}

/**
 * Storage port of the otp module. The Prisma implementation keeps each operation to one statement
 * so the database, not JavaScript, decides races.
 */
export abstract class OtpRepository {
  /**
   * Checks the lockout, the cooldown and the per-phone send limit, counts the send, cancels the
   * client's previous pending code, inserts the new one and enqueues its delivery, atomically.
   */
  abstract issue(code: NewCode, cooldownSeconds: number, limit: SendLimit): Promise<IssueResult>;
  /** The client's newest code for the phone and purpose, with the (client, phone)'s lockout. */
  abstract findNewest(phone: string, purpose: string, client: string): Promise<VerifyLookup>;
  /** The (client, phone)'s lockout and wrong codes since `windowStart` (after a refusal). */
  abstract verifyLimits(phone: string, client: string, windowStart: Date): Promise<VerifyLimitsState>;
  /**
   * Counts one attempt and, when `matched`, marks the code used; only while it is pending,
   * unexpired and under its attempt limit, and while the (client, phone)'s limits admit it. A wrong
   * code's time is kept on its code (the verify limit and the consecutive failures are counted from
   * these); a right one resets the consecutive count.
   */
  abstract recordAttempt(
    code: { id: string; phone: string; client: string },
    matched: boolean,
    now: Date,
    limits: VerifyLimits,
  ): Promise<AttemptOutcome>;
  abstract findById(id: string): Promise<CodeForVerify | undefined>;
  abstract view(id: string, client: string): Promise<CodeView | undefined>;
}
