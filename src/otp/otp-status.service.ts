import { Injectable } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { OtpRepository } from './otp.repository.js';

/** GET /v1/otp/:id: verification status (expiry applied lazily), delivery status and attempts. */
@Injectable()
export class OtpStatusService {
  constructor(
    private readonly repository: OtpRepository,
    private readonly clock: Clock,
  ) {}

  async view(id: string, client: string) {
    const row = await this.repository.view(id, client);
    if (!row) return undefined;
    const now = this.clock.now();
    const expired = row.status === 'pending' && row.expiresAt.getTime() <= now.getTime();
    return {
      id: row.id,
      phone: row.phone,
      purpose: row.purpose,
      status: expired ? 'expired' : row.status,
      attempts: row.attempts,
      attemptsRemaining:
        row.status === 'pending' && !expired ? Math.max(0, row.maxAttempts - row.attempts) : 0,
      expiresAt: row.expiresAt.toISOString(),
      createdAt: row.createdAt.toISOString(),
      verifiedAt: row.status === 'verified' ? (row.usedAt?.toISOString() ?? null) : null,
      delivery: {
        status: row.deliveryStatus,
        provider: row.deliveryProvider,
        error: row.deliveryError,
        updatedAt: row.deliveryUpdatedAt?.toISOString() ?? null,
        attempts: row.deliveryAttempts.map((a) => ({
          provider: a.provider,
          outcome: a.outcome,
          errorCode: a.errorCode,
          providerStatus: a.providerStatus,
          at: a.createdAt.toISOString(),
        })),
      },
    };
  }
}
