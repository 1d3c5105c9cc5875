import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/index.js';
import { MetricsService } from '../metrics/index.js';
import type { RejectReason, WebhookProvider } from './webhook-request.js';

/**
 * Turns a failed check into the one answer every rejected webhook gets: 401 invalid_signature,
 * the same message whatever the reason (the reason goes to the metric and the log only).
 */
@Injectable()
export class WebhookRejects {
  private readonly logger = new Logger('Webhooks');

  constructor(private readonly metrics: MetricsService) {}

  reject(provider: WebhookProvider, reason: RejectReason): never {
    this.metrics.webhookRejects.inc({ provider, reason });
    this.logger.warn({ provider, reason }, 'webhook rejected');
    throw new DomainError('invalid_signature');
  }
}
