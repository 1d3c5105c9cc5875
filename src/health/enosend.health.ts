import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { providersConfig, type ProvidersConfig } from '../config/index.js';
import { ProviderStatesRepository } from '../delivery/index.js';

/**
 * EnoSend's linked phone as last reported by instance.state. Not connected is `degraded`, never
 * `down`: the service still sends through the other providers, so readiness stays 200.
 */
@Injectable()
export class EnoSendHealthIndicator {
  constructor(
    private readonly states: ProviderStatesRepository,
    private readonly indicators: HealthIndicatorService,
    @Inject(providersConfig.KEY) private readonly providers: ProvidersConfig,
  ) {}

  /** Whether EnoSend is in the chain at all (otherwise /health/ready does not mention it). */
  get enabled(): boolean {
    return this.providers.chain.includes('enosend');
  }

  async check() {
    const session = this.indicators.check('enosend');
    try {
      const stored = await this.states.find('enosend');
      // Nothing reported yet: EnoSend is used (the router only skips a reported non-connected state).
      if (!stored) return session.up({ state: 'unknown' });
      const since = stored.updatedAt.toISOString();
      return stored.state === 'connected' || stored.state === 'healthy'
        ? session.up({ state: stored.state, since })
        : session.degraded({ state: stored.state, since });
    } catch {
      // The database indicator reports an outage; this one only says the state is unknown.
      return session.degraded({ state: 'unknown' });
    }
  }
}
