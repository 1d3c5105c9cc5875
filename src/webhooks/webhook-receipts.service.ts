import { Injectable } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { RetentionSweeper, type RetentionSweep } from '../delivery/index.js';
import { PrismaService } from '../prisma/index.js';

export type ReceiptKind = 'nonce' | 'event';

/**
 * Seen nonces and events, in PostgreSQL so every replica shares them. The primary key decides:
 * the first insert wins, a second one (even concurrent) inserts nothing. The owner of
 * webhook_receipts; DeliveryReportsRepository also claims an event receipt inside its one
 * statement (documented there).
 */
@Injectable()
@RetentionSweeper()
export class WebhookReceiptsService implements RetentionSweep {
  constructor(
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
  ) {}

  /** Records a receipt; false when it was already there (a replay or a duplicate). */
  async claim(provider: string, kind: ReceiptKind, value: string): Promise<boolean> {
    const inserted = await this.prisma.$executeRaw`
      INSERT INTO webhook_receipts (provider, kind, value, received_at)
      VALUES (${provider}, ${kind}, ${value}, ${this.clock.now()})
      ON CONFLICT DO NOTHING`;
    return inserted === 1;
  }

  /** Forgets a receipt, so the provider's retry of a request we failed to process is not a replay. */
  async release(provider: string, kind: ReceiptKind, value: string): Promise<void> {
    await this.prisma.$executeRaw`
      DELETE FROM webhook_receipts WHERE provider = ${provider} AND kind = ${kind} AND value = ${value}`;
  }

  /** Retention: receipts older than an hour (past every provider's replay window). */
  async sweep(now: Date): Promise<{ webhookReceipts: number }> {
    const webhookReceipts = await this.prisma.$executeRaw`
      DELETE FROM webhook_receipts WHERE received_at < ${new Date(now.getTime() - 3600_000)}`;
    return { webhookReceipts };
  }
}
