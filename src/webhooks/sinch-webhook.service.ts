import { Injectable, Logger } from '@nestjs/common';
import { Clock, maskPhone } from '../common/index.js';
import { MetricsService } from '../metrics/index.js';
import { ContactsRepository } from './contacts.repository.js';
import { DeliveryReportsRepository } from './delivery-reports.repository.js';
import { parseSinchEvent, type SinchEvent } from './sinch-events.js';

/** How far in the future a provider's event time may be (clock skew) and still order events. */
const MAX_CLOCK_SKEW_MS = 300_000;

/**
 * Acts on verified Sinch callbacks: delivery reports move the code's delivery status, inbound
 * messages record the contact's 24 h window and opt-out. Each is one database statement; the slow
 * follow-up (a fallback send) is a job, so the provider gets its 2xx quickly.
 */
@Injectable()
export class SinchWebhookService {
  private readonly logger = new Logger('SinchWebhook');

  constructor(
    private readonly reports: DeliveryReportsRepository,
    private readonly contacts: ContactsRepository,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
  ) {}

  async handle(body: unknown): Promise<SinchEvent['type']> {
    const event = parseSinchEvent(body);
    switch (event.type) {
      case 'delivery_report':
        this.metrics.webhookEvents.inc({ provider: 'sinch', type: 'message_delivery_report' });
        await this.onDeliveryReport(event);
        break;
      case 'inbound':
        this.metrics.webhookEvents.inc({ provider: 'sinch', type: 'message' });
        await this.onInbound(event);
        break;
      case 'ignored':
        this.metrics.webhookEvents.inc({ provider: 'sinch', type: 'ignored' });
        this.logger.debug({ provider: 'sinch', event: event.name }, 'webhook event ignored');
        break;
    }
    return event.type;
  }

  private async onDeliveryReport(event: Extract<SinchEvent, { type: 'delivery_report' }>): Promise<void> {
    const now = this.clock.now();
    const outcome = await this.reports.apply({ provider: 'sinch', ...event }, now);
    const log = { provider: 'sinch', status: event.status, reason: event.reason, result: outcome.result };
    if (outcome.result === 'unknown_message') {
      this.logger.log(log, 'delivery report for an unknown message');
      return;
    }
    this.logger.log({ ...log, codeId: outcome.codeId }, 'delivery report');
    // Outcome counters and latency: DeliveryReportsRepository, where the code's status moves.
    if (outcome.result !== 'applied') return;
    if (outcome.fallback) {
      this.logger.log(
        { provider: 'sinch', codeId: outcome.codeId, reason: event.reason },
        'fallback requested',
      );
    }
  }

  private async onInbound(event: Extract<SinchEvent, { type: 'inbound' }>): Promise<void> {
    const now = this.clock.now();
    // Sinch's own time orders STOP/START, however old (API.md Decision 9: a STOP delivered again
    // days later, after a START, is older than the state it would change and changes nothing);
    // only a time too far in the future is replaced by ours.
    const t = event.at?.getTime();
    const at = t !== undefined && t <= now.getTime() + MAX_CLOCK_SKEW_MS ? event.at! : now;
    await this.contacts.recordInbound(event.phone, at, event.optChange, now);
    // Never the number in full, never the message text.
    this.logger.log(
      { provider: 'sinch', phone: maskPhone(event.phone), optChange: event.optChange ?? 'none' },
      'inbound message recorded',
    );
  }
}
