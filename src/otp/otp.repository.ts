import type { DeliveryStatus, VerificationStatus } from '../generated/prisma/enums.js';

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

export type IssueResult =
  | { kind: 'issued'; canceledPrevious: number }
  /** A pending code for the same phone and purpose was issued too recently. */
  | { kind: 'cooldown'; lastIssuedAt: Date };

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
  /** Cancels the previous pending code, inserts the new one and enqueues its delivery, atomically. */
  abstract issue(code: NewCode, cooldownSeconds: number): Promise<IssueResult>;
  abstract findNewest(phone: string, purpose: string): Promise<CodeForVerify | undefined>;
  /**
   * Counts one attempt and, when `matched`, marks the code used; only while it is pending,
   * unexpired and under its attempt limit. Undefined when the row no longer qualifies.
   */
  abstract recordAttempt(id: string, matched: boolean, now: Date): Promise<AttemptResult | undefined>;
  abstract findById(id: string): Promise<CodeForVerify | undefined>;
  abstract view(id: string, client: string): Promise<CodeView | undefined>;
}
