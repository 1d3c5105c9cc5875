import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { providersConfig, type ProvidersConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { type EnoSendEvent, parseEnoSendEvent } from './enosend-events.js';
import { ProviderStatesRepository } from '../delivery/index.js';

/** How far in the future an event's timestamp may be (clock skew). */
const MAX_CLOCK_SKEW_MS = 300_000;

/**
 * Acts on verified EnoSend callbacks: `instance.state` is stored in provider_states, where the
 * delivery router (skips EnoSend unless connected) and /health/ready read it.
 */
@Injectable()
export class EnoSendWebhookService {
  private readonly logger = new Logger('EnoSendWebhook');

  constructor(
    private readonly states: ProviderStatesRepository,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
    @Inject(providersConfig.KEY) private readonly providers: ProvidersConfig,
  ) {}

  async handle(body: unknown): Promise<EnoSendEvent['type']> {
    const event = parseEnoSendEvent(body);
    if (event.type === 'ignored') {
      this.metrics.webhookEvents.inc({ provider: 'enosend', type: 'ignored' });
      this.logger.debug({ provider: 'enosend', event: event.name }, 'webhook event ignored');
      return event.type;
    }
    this.metrics.webhookEvents.inc({ provider: 'enosend', type: 'instance.state' });
    const configured = this.providers.enosend.instanceId;
    // Another instance on the same EnoSend account says nothing about ours.
    if (configured && event.instanceId !== undefined && event.instanceId !== configured) {
      this.logger.log(
        { provider: 'enosend', state: event.state },
        'instance.state for another instance ignored',
      );
      return 'ignored';
    }
    const now = this.clock.now();
    // EnoSend signs no timestamp or nonce, so a captured event could be replayed forever: events
    // are ordered by their own `timestamp` instead (API.md Decision 9). One without a usable
    // timestamp cannot be ordered and is ignored; so is one too far in the future.
    const t = event.observedAt?.getTime();
    if (t === undefined || t > now.getTime() + MAX_CLOCK_SKEW_MS) {
      this.logger.warn(
        { provider: 'enosend', state: event.state },
        'instance.state without a usable timestamp ignored',
      );
      return 'ignored';
    }
    const observedAt = event.observedAt!;
    const stored = await this.states.store(
      'enosend',
      event.state,
      { instanceId: event.instanceId ?? configured, timestamp: event.timestamp },
      observedAt,
      now,
    );
    this.logger.log({ provider: 'enosend', state: event.state, stored }, 'instance state');
    return event.type;
  }
}
