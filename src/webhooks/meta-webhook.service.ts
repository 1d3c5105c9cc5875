import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock, maskPhone } from '../common/index.js';
import { providersConfig, type ProvidersConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { ContactsRepository } from './contacts.repository.js';
import { DeliveryReportsRepository } from './delivery-reports.repository.js';
import { type MetaEvent, parseMetaCallback } from './meta-events.js';
import { ProviderStatesRepository } from '../delivery/index.js';

// Meta's clock may run a little ahead of ours; an inbound time further ahead is replaced by ours.
const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

export interface MetaCallbackSummary {
  statuses: number;
  inbound: number;
  ignored: number;
  otherNumbers: number;
}

/**
 * Acts on verified WhatsApp Cloud API callbacks. Every status goes through the same delivery-report
 * statement as Sinch's (one conditional UPDATE, forward only; a repeated (message id, status) is a
 * receipt conflict and changes nothing; `failed` enqueues the fallback in the same transaction).
 * Inbound messages record the contact's activity and STOP / START, ordered by Meta's own time, so
 * a STOP replayed days later never overrides a later START.
 */
@Injectable()
export class MetaWebhookService {
  private readonly logger = new Logger('MetaWebhook');

  constructor(
    private readonly reports: DeliveryReportsRepository,
    private readonly contacts: ContactsRepository,
    private readonly states: ProviderStatesRepository,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
    @Inject(providersConfig.KEY) private readonly providers: ProvidersConfig,
  ) {}

  async handle(body: unknown): Promise<MetaCallbackSummary> {
    const { events, otherNumbers } = parseMetaCallback(body, this.providers.meta.phoneNumberId);
    const summary: MetaCallbackSummary = { statuses: 0, inbound: 0, ignored: 0, otherNumbers };
    if (otherNumbers > 0) {
      this.metrics.webhookEvents.inc({ provider: 'meta', type: 'other_phone_number' }, otherNumbers);
      this.logger.log(
        { provider: 'meta', changes: otherNumbers },
        'changes for another phone number ignored',
      );
    }
    // In order: Meta's batches are small; a status and an inbound message never wait on each other.
    for (const event of events) {
      switch (event.type) {
        case 'status':
          this.metrics.webhookEvents.inc({ provider: 'meta', type: 'status' });
          await this.onStatus(event);
          summary.statuses += 1;
          break;
        case 'inbound':
          this.metrics.webhookEvents.inc({ provider: 'meta', type: 'message' });
          await this.onInbound(event);
          summary.inbound += 1;
          break;
        case 'ignored':
          this.metrics.webhookEvents.inc({ provider: 'meta', type: 'ignored' });
          this.logger.debug({ provider: 'meta', event: event.name }, 'webhook event ignored');
          summary.ignored += 1;
          break;
      }
    }
    return summary;
  }

  private async onStatus(event: Extract<MetaEvent, { type: 'status' }>): Promise<void> {
    const now = this.clock.now();
    const { messageId, status, reason, effect } = event;
    const outcome = await this.reports.apply({ provider: 'meta', messageId, status, reason, effect }, now);
    const log = { provider: 'meta', status, reason, result: outcome.result };
    if (outcome.result === 'unknown_message') {
      this.logger.log(log, 'delivery report for an unknown message');
      return;
    }
    this.logger.log({ ...log, codeId: outcome.codeId }, 'delivery report');
    if (event.configurationError && outcome.result !== 'duplicate') {
      // A token, template or account problem reported after the send: every next code would fail
      // the same way, so the provider is skipped as after a synchronous configuration error.
      await this.states.store('meta', 'misconfigured', { errorCode: reason }, now, now);
      this.metrics.deliveryAttempts.inc({ provider: 'meta', outcome: 'configuration_error' });
      this.logger.error(
        { provider: 'meta', errorCode: reason },
        'provider misconfigured: skipped until fixed',
      );
    }
    // Outcome counters and latency: DeliveryReportsRepository, where the code's status moves.
    if (outcome.result !== 'applied') return;
    if (outcome.fallback) {
      this.logger.log({ provider: 'meta', codeId: outcome.codeId, reason }, 'fallback requested');
    }
  }

  private async onInbound(event: Extract<MetaEvent, { type: 'inbound' }>): Promise<void> {
    const now = this.clock.now();
    // Meta's own time orders STOP / START, however old (Meta retries for days); a time in the
    // future is replaced by ours.
    const t = event.at?.getTime();
    const at =
      t !== undefined && t <= now.getTime() + MAX_FUTURE_SKEW_MS ? new Date(Math.min(t, now.getTime())) : now;
    await this.contacts.recordInbound(event.phone, at, event.optChange, now);
    // Never the number in full, never the message text.
    this.logger.log(
      { provider: 'meta', phone: maskPhone(event.phone), optChange: event.optChange ?? 'none' },
      'inbound message recorded',
    );
  }
}
