import { Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiWebhook, ENOSEND_CALLBACK_SCHEMA, SINCH_CALLBACK_SCHEMA } from '../openapi/index.js';
import { EnoSendSignatureGuard } from './enosend-signature.guard.js';
import { EnoSendWebhookService } from './enosend-webhook.service.js';
import { SinchSignatureGuard } from './sinch-signature.guard.js';
import { SinchWebhookService } from './sinch-webhook.service.js';
import { WebhookReceiptsService } from './webhook-receipts.service.js';
import type { WebhookRequest } from './webhook-request.js';

export interface WebhookAck {
  received: true;
}

/** The webhooks' route prefix (also read by the request metrics in app.factory.ts). */
export const WEBHOOKS_PATH = 'webhooks';

/**
 * Provider callbacks. The guards verify the signature over the raw bytes before the parsed body
 * is looked at; the handlers answer 200 for every verified event, including ones we ignore, so
 * providers do not retry them forever. Called by providers, not by client backends: no Bearer key.
 */
@ApiTags('webhooks')
@Controller(WEBHOOKS_PATH)
export class WebhooksController {
  constructor(
    private readonly sinch: SinchWebhookService,
    private readonly enosend: EnoSendWebhookService,
    private readonly receipts: WebhookReceiptsService,
  ) {}

  @Post('sinch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sinch Conversation API callbacks (delivery reports, inbound messages)' })
  @ApiHeader({
    name: 'x-sinch-webhook-signature',
    required: true,
    description: 'base64 HMAC-SHA256 of body.nonce.timestamp',
  })
  @ApiHeader({ name: 'x-sinch-webhook-signature-nonce', required: true })
  @ApiHeader({
    name: 'x-sinch-webhook-signature-timestamp',
    required: true,
    description: 'Unix seconds, within 300 s',
  })
  @ApiHeader({ name: 'x-sinch-webhook-signature-algorithm', required: true, description: 'HmacSHA256' })
  @ApiWebhook(SINCH_CALLBACK_SCHEMA)
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
  @ApiOperation({ summary: 'EnoSend callbacks (instance.state, message status)' })
  @ApiHeader({
    name: 'x-enosend-signature',
    required: true,
    description: 'hex HMAC-SHA256 of the raw body (optional sha256= prefix)',
  })
  @ApiWebhook(ENOSEND_CALLBACK_SCHEMA)
  @UseGuards(EnoSendSignatureGuard)
  async enosendCallback(@Req() request: WebhookRequest): Promise<WebhookAck> {
    await this.enosend.handle(request.body);
    return { received: true };
  }
}
