import { Injectable } from '@nestjs/common';
import { RetentionSweeper, type RetentionSweep } from '../delivery/index.js';
import { PrismaService } from '../prisma/index.js';

/**
 * Retention of the per-phone limit tables otp owns (phone_send_counters, verify_guards), whose
 * rows the statements of otp.statements.ts write. Runs after the codes' sweep (RetentionScheduler),
 * which folds the deleted codes' wrong codes into their guards first.
 */
@Injectable()
@RetentionSweeper()
export class OtpRetention implements RetentionSweep {
  constructor(private readonly prisma: PrismaService) {}

  async sweep(now: Date): Promise<{ sendCounters: number; verifyGuards: number }> {
    // Per-phone limit rows (API.md A2, Decision 3). A send counter goes once its whole rolling hour
    // has passed. A verify guard goes only when it holds nothing that still counts: no consecutive
    // failure (that count resets only on a success, and after the cap each failure re-arms the
    // lockout, so erasing it would hand an attacker a fresh budget), no running lockout, and no
    // code left whose failures it discounts (created before its counted_until: without the row they
    // would count again). Guards exist only for (client, phone)s that reached the cap or succeeded
    // after wrong codes, so keeping the failing ones stays bounded.
    const hourAgo = new Date(now.getTime() - 3600_000);
    const sendCounters = await this.prisma.$executeRaw`
      DELETE FROM phone_send_counters WHERE updated_at < ${hourAgo}`;
    const verifyGuards = await this.prisma.$executeRaw`
      DELETE FROM verify_guards AS g
      WHERE g.consecutive_failures = 0 AND g.updated_at < ${hourAgo}
        AND (g.locked_until IS NULL OR g.locked_until < ${now})
        AND NOT EXISTS (
          SELECT 1 FROM one_time_codes AS c
          WHERE c.phone = g.phone AND c.client = g.client AND c.created_at <= g.counted_until
            AND cardinality(c.failed_at) > 0)`;
    return { sendCounters, verifyGuards };
  }
}
