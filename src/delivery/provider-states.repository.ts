import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/index.js';

export interface StoredProviderState {
  state: string;
  details: unknown;
  updatedAt: Date;
}

/**
 * The owner of `provider_states`: provider health as webhooks report it (EnoSend instance.state,
 * Meta account updates: store) and as the delivery engine learns it (a 401 means misconfigured:
 * setState; a provider-wide rate limit: pause). Read by delivery (which providers to skip) and health.
 */
@Injectable()
export class ProviderStatesRepository {
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

  /**
   * The engine's own finding (e.g. `misconfigured` after a 401). The time of the last state a
   * webhook reported (details.observedAt) is kept, so an old webhook event replayed afterwards is
   * still older than it and changes nothing.
   */
  async setState(provider: string, state: string, details: Record<string, unknown>): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO provider_states AS p (provider, state, details, updated_at) VALUES (${provider}, ${state}, ${JSON.stringify(details)}::jsonb, now())
      ON CONFLICT (provider) DO UPDATE SET state = EXCLUDED.state, updated_at = now(),
        details = EXCLUDED.details || jsonb_strip_nulls(jsonb_build_object('observedAt', p.details -> 'observedAt'))`;
  }

  /**
   * A provider asked us to wait (a provider-wide rate limit): every delivery skips it until
   * `until` (a later pause wins; a shorter one never shortens it).
   */
  async pause(provider: string, until: Date): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO provider_states (provider, state, details, updated_at, paused_until)
      VALUES (${provider}, 'healthy', '{}'::jsonb, now(), ${until}::timestamptz)
      ON CONFLICT (provider) DO UPDATE SET
        paused_until = GREATEST(provider_states.paused_until, EXCLUDED.paused_until)`;
  }
}
