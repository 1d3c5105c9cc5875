import { Controller, Get, Header, HttpCode, Inject, Logger, Post, Req, UseGuards } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../common/index.js';
import { webhooksConfig, type WebhooksConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { ApiErrors, ApiWebhook, META_CALLBACK_SCHEMA } from '../openapi/index.js';
import { MetaSignatureGuard } from './meta-signature.guard.js';
import { matchesAnyToken } from './meta-signature.js';
import { MetaWebhookService } from './meta-webhook.service.js';
import type { WebhookRequest } from './webhook-request.js';
import { WEBHOOKS_PATH, type WebhookAck } from './webhooks.controller.js';

/** shared/docs/API.md, Decision 9: Meta batches statuses, so its callbacks may be up to 1 MiB. */
export const META_WEBHOOK_BODY_LIMIT = 1024 * 1024;
/** Meta's challenge is a number; anything longer or stranger is not echoed. */
const CHALLENGE = /^[A-Za-z0-9._~-]{1,128}$/;

/**
 * WhatsApp Cloud API (Meta) webhooks (API.md A6): `GET /webhooks/meta` answers the subscription
 * handshake Meta performs when the callback URL is saved; `POST /webhooks/meta` takes signed
 * status and message callbacks. Called by Meta, not by client backends: no Bearer key.
 */
@ApiTags('webhooks')
@Controller(WEBHOOKS_PATH)
export class MetaWebhooksController {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly meta: MetaWebhookService,
    private readonly metrics: MetricsService,
    @Inject(webhooksConfig.KEY) private readonly config: WebhooksConfig,
  ) {}

  @Get('meta')
  @HttpCode(200)
  @Header('content-type', 'text/plain; charset=utf-8')
  @Header('cache-control', 'no-store')
  @Header('x-content-type-options', 'nosniff')
  @ApiOperation({ summary: 'WhatsApp Cloud API (Meta) webhook subscription handshake' })
  @ApiQuery({ name: 'hub.mode', required: true, example: 'subscribe' })
  @ApiQuery({ name: 'hub.verify_token', required: true, description: 'META_WEBHOOK_VERIFY_TOKEN' })
  @ApiQuery({ name: 'hub.challenge', required: true, example: '1158201444' })
  @ApiOkResponse({
    description: 'The challenge, exactly, as text/plain',
    content: { 'text/plain': { schema: { type: 'string', example: '1158201444' } } },
  })
  @ApiErrors(['forbidden', 'invalid_request'])
  subscribe(@Req() request: FastifyRequest): string {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const mode = query['hub.mode'];
    const token = query['hub.verify_token'];
    const challenge = query['hub.challenge'];
    // Every configured token is compared (constant time) even when the mode is wrong.
    const tokenOk =
      typeof token === 'string' &&
      this.config.metaVerifyTokens.length > 0 &&
      matchesAnyToken(this.config.metaVerifyTokens, token);
    if (!tokenOk || mode !== 'subscribe') {
      const reason = this.config.metaVerifyTokens.length === 0 ? 'not_configured' : 'bad_verify_token';
      this.metrics.webhookRejects.inc({ provider: 'meta', reason });
      this.logger.warn({ provider: 'meta', reason }, 'webhook subscription refused');
      throw new DomainError('forbidden');
    }
    if (typeof challenge !== 'string' || !CHALLENGE.test(challenge)) {
      throw new DomainError('invalid_request', { message: 'challenge' });
    }
    this.logger.log({ provider: 'meta' }, 'webhook subscription verified');
    return challenge;
  }

  @Post('meta')
  @HttpCode(200)
  @RouteConfig({ bodyLimit: META_WEBHOOK_BODY_LIMIT })
  @ApiOperation({ summary: 'WhatsApp Cloud API (Meta) callbacks (statuses, inbound messages); up to 1 MiB' })
  @ApiHeader({
    name: 'x-hub-signature-256',
    required: true,
    description: 'sha256= + hex HMAC-SHA256 of the raw body under META_APP_SECRET',
  })
  @ApiWebhook(META_CALLBACK_SCHEMA)
  @UseGuards(MetaSignatureGuard)
  async callback(@Req() request: WebhookRequest): Promise<WebhookAck> {
    await this.meta.handle(request.body);
    return { received: true };
  }
}
