import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/index.js';

export interface StoredProviderState {
  state: string;
  details: unknown;
  updatedAt: Date;
}

/** provider_states rows written by webhooks (EnoSend instance.state) and read by health. */
@Injectable()
export class ProviderStateRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Stores a provider's state as observed at `observedAt`, only when it is newer than the stored
   * observation: an older one arriving late (or replayed) and a duplicate (the same time) change
   * nothing. The delivery engine's own writes keep the stored observation time, so they never open
   * the door to an old event.
   */
  async store(
    provider: string,
    state: string,
    details: Record<string, unknown>,
    observedAt: Date,
    now: Date,
  ): Promise<boolean> {
    const json = JSON.stringify({ ...details, observedAt: observedAt.toISOString() });
    const n = await this.prisma.$executeRaw`
      INSERT INTO provider_states AS p (provider, state, details, updated_at)
      VALUES (${provider}, ${state}, ${json}::jsonb, ${now}::timestamptz)
      ON CONFLICT (provider) DO UPDATE SET state = EXCLUDED.state, details = EXCLUDED.details, updated_at = EXCLUDED.updated_at
      WHERE p.details IS NULL OR jsonb_typeof(p.details -> 'observedAt') IS DISTINCT FROM 'string'
         OR (p.details ->> 'observedAt')::timestamptz < ${observedAt}::timestamptz`;
    return n === 1;
  }

  async find(provider: string): Promise<StoredProviderState | undefined> {
    const rows = await this.prisma.$queryRaw<StoredProviderState[]>`
      SELECT state, details, updated_at AS "updatedAt" FROM provider_states WHERE provider = ${provider}`;
    return rows[0];
  }
}
