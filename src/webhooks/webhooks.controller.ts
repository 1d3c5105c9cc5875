import { Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EnoSendSignatureGuard } from './enosend-signature.guard.js';
import { EnoSendWebhookService } from './enosend-webhook.service.js';
import { SinchSignatureGuard } from './sinch-signature.guard.js';
import { SinchWebhookService } from './sinch-webhook.service.js';
import { WebhookReceiptsService } from './webhook-receipts.service.js';
import type { WebhookRequest } from './webhook-request.js';

export interface WebhookAck {
  received: true;
}

/**
 * Provider callbacks. The guards verify the signature over the raw bytes before the parsed body
 * is looked at; the handlers answer 200 for every verified event, including ones we ignore, so
 * providers do not retry them forever. Not client API, so not in the OpenAPI document.
 */
@ApiExcludeController()
@Controller('webhooks')
export class WebhooksController {
  constructor(
    private readonly sinch: SinchWebhookService,
    private readonly enosend: EnoSendWebhookService,
    private readonly receipts: WebhookReceiptsService,
  ) {}

  @Post('sinch')
  @HttpCode(200)
  @UseGuards(SinchSignatureGuard)
  async sinchCallback(@Req() request: WebhookRequest): Promise<WebhookAck> {
    try {
      await this.sinch.handle(request.body);
    } catch (error) {
      // Processing failed (e.g. database down): free the nonce so Sinch's retry is not a "replay".
      if (request.webhookNonce) {
        await this.receipts.release('sinch', 'nonce', request.webhookNonce).catch(() => undefined);
      }
      throw error;
    }
    return { received: true };
  }

  @Post('enosend')
  @HttpCode(200)
  @UseGuards(EnoSendSignatureGuard)
  async enosendCallback(@Req() request: WebhookRequest): Promise<WebhookAck> {
    await this.enosend.handle(request.body);
    return { received: true };
  }
}
