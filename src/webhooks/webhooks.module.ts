import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/index.js';
import { ContactsRepository } from './contacts.repository.js';
import { DeliveryReportsRepository } from './delivery-reports.repository.js';
import { EnoSendSignatureGuard } from './enosend-signature.guard.js';
import { EnoSendWebhookService } from './enosend-webhook.service.js';
import { MetaSignatureGuard } from './meta-signature.guard.js';
import { MetaWebhookService } from './meta-webhook.service.js';
import { MetaWebhooksController } from './meta-webhooks.controller.js';
import { SinchSignatureGuard } from './sinch-signature.guard.js';
import { SinchWebhookService } from './sinch-webhook.service.js';
import { WebhookReceiptsService } from './webhook-receipts.service.js';
import { WebhookRejects } from './webhook-rejects.js';
import { WebhooksController } from './webhooks.controller.js';

/** POST /webhooks/sinch, /webhooks/enosend and /webhooks/meta (+ GET handshake): signed provider callbacks. */
@Module({
  // Delivery owns provider_states (ProviderStatesRepository) and the job queue.
  imports: [DeliveryModule],
  controllers: [WebhooksController, MetaWebhooksController],
  providers: [
    SinchSignatureGuard,
    EnoSendSignatureGuard,
    WebhookRejects,
    WebhookReceiptsService,
    DeliveryReportsRepository,
    ContactsRepository,
    SinchWebhookService,
    EnoSendWebhookService,
    MetaSignatureGuard,
    MetaWebhookService,
  ],
})
export class WebhooksModule {}
