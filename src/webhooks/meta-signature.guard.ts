import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { webhooksConfig, type WebhooksConfig } from '../config/index.js';
import { WebhookRejects } from './webhook-rejects.js';
import { headerOf, type WebhookRequest } from './webhook-request.js';
import { matchesAny, metaSignature } from './meta-signature.js';

const SIGNATURE = /^sha256=([0-9a-f]{64})$/;

/**
 * Verifies a WhatsApp Cloud API callback before its body is looked at: `X-Hub-Signature-256` is
 * `sha256=` + the hex HMAC-SHA256 of the raw bytes under META_APP_SECRET (any secret of a
 * rotation list), compared in constant time. Meta sends no timestamp or nonce: replays are made
 * harmless by the handlers (statuses only move forward, a repeated (message id, status) changes
 * nothing, an older STOP never overrides a newer START).
 */
@Injectable()
export class MetaSignatureGuard implements CanActivate {
  constructor(
    @Inject(webhooksConfig.KEY) private readonly config: WebhooksConfig,
    private readonly rejects: WebhookRejects,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<WebhookRequest>();
    // Fail closed: without the app secret nothing can be verified, so nothing is accepted.
    if (this.config.metaAppSecrets.length === 0) this.rejects.reject('meta', 'not_configured');
    const header = headerOf(request, 'x-hub-signature-256');
    const raw = request.rawBody;
    if (!header || !raw) this.rejects.reject('meta', 'unsigned');
    const presented = SIGNATURE.exec(header.trim().toLowerCase())?.[1];
    if (!presented) this.rejects.reject('meta', 'bad_signature');
    const valid = matchesAny(this.config.metaAppSecrets, presented, (secret) => metaSignature(secret, raw));
    if (!valid) this.rejects.reject('meta', 'bad_signature');
    return true;
  }
}
