import { Module } from '@nestjs/common';
import { ContactsRepository } from './contacts.repository.js';
import { DeliveryReportsRepository } from './delivery-reports.repository.js';
import { EnoSendSignatureGuard } from './enosend-signature.guard.js';
import { EnoSendWebhookService } from './enosend-webhook.service.js';
import { MetaSignatureGuard } from './meta-signature.guard.js';
import { MetaWebhookService } from './meta-webhook.service.js';
import { MetaWebhooksController } from './meta-webhooks.controller.js';
import { ProviderStateRepository } from './provider-state.repository.js';
import { SinchSignatureGuard } from './sinch-signature.guard.js';
import { SinchWebhookService } from './sinch-webhook.service.js';
import { WebhookReceiptsService } from './webhook-receipts.service.js';
import { WebhookRejects } from './webhook-rejects.js';
import { WebhooksController } from './webhooks.controller.js';

/** POST /webhooks/sinch, /webhooks/enosend and /webhooks/meta (+ GET handshake): signed provider callbacks. */
@Module({
  controllers: [WebhooksController, MetaWebhooksController],
  providers: [
    SinchSignatureGuard,
    EnoSendSignatureGuard,
    WebhookRejects,
    WebhookReceiptsService,
    DeliveryReportsRepository,
    ContactsRepository,
    ProviderStateRepository,
    SinchWebhookService,
    EnoSendWebhookService,
    MetaSignatureGuard,
    MetaWebhookService,
  ],
  exports: [ProviderStateRepository],
})
export class WebhooksModule {}
