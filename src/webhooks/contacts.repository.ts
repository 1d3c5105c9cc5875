import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/index.js';

/**
 * WhatsApp contacts as told by inbound messages: the last inbound time (Sinch's 24 h free-text
 * window) and opt-out. The newest message decides the opt-out state: a STOP that arrives after a
 * later START (webhooks can come out of order) changes nothing.
 */
@Injectable()
export class ContactsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async recordInbound(
    phone: string,
    at: Date,
    optChange: 'out' | 'in' | undefined,
    now: Date,
  ): Promise<void> {
    const change = optChange ?? null;
    await this.prisma.$executeRaw`
      INSERT INTO whatsapp_contacts AS w (phone, last_inbound_at, opted_out_at, updated_at)
      VALUES (${phone}, ${at}::timestamptz, CASE WHEN ${change}::text = 'out' THEN ${at}::timestamptz END, ${now}::timestamptz)
      ON CONFLICT (phone) DO UPDATE SET
        last_inbound_at = GREATEST(w.last_inbound_at, EXCLUDED.last_inbound_at),
        opted_out_at = CASE
          WHEN ${change}::text IS NULL OR EXCLUDED.last_inbound_at < COALESCE(w.last_inbound_at, '-infinity') THEN w.opted_out_at
          WHEN ${change}::text = 'out' THEN COALESCE(w.opted_out_at, EXCLUDED.last_inbound_at)
          ELSE NULL
        END,
        updated_at = EXCLUDED.updated_at`;
  }
}
