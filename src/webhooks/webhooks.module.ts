import { Module } from '@nestjs/common';
import { ContactsRepository } from './contacts.repository.js';
import { DeliveryReportsRepository } from './delivery-reports.repository.js';
import { EnoSendSignatureGuard } from './enosend-signature.guard.js';
import { EnoSendWebhookService } from './enosend-webhook.service.js';
import { ProviderStateRepository } from './provider-state.repository.js';
import { SinchSignatureGuard } from './sinch-signature.guard.js';
import { SinchWebhookService } from './sinch-webhook.service.js';
import { WebhookReceiptsService } from './webhook-receipts.service.js';
import { WebhookRejects } from './webhook-rejects.js';
import { WebhooksController } from './webhooks.controller.js';

/** POST /webhooks/sinch and /webhooks/enosend: signed provider callbacks (shared/docs/PROVIDERS.md). */
@Module({
  controllers: [WebhooksController],
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
  ],
  exports: [ProviderStateRepository],
})
export class WebhooksModule {}
