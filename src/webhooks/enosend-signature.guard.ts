import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { webhooksConfig, type WebhooksConfig } from '../config/index.js';
import { WebhookRejects } from './webhook-rejects.js';
import { headerOf, type WebhookRequest } from './webhook-request.js';
import { enosendSignature, matchesAny } from './webhook-signature.js';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Verifies an EnoSend callback: `X-Enosend-Signature` is the hex HMAC-SHA256 of the raw body
 * (optionally prefixed `sha256=`) under any configured secret. EnoSend's scheme has no timestamp
 * or nonce, so replay protection is up to the handlers (instance.state is idempotent and ordered).
 */
@Injectable()
export class EnoSendSignatureGuard implements CanActivate {
  constructor(
    @Inject(webhooksConfig.KEY) private readonly config: WebhooksConfig,
    private readonly rejects: WebhookRejects,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<WebhookRequest>();
    if (this.config.enosendSecrets.length === 0) this.rejects.reject('enosend', 'not_configured');
    const header = headerOf(request, 'x-enosend-signature');
    const raw = request.rawBody;
    if (!header || !raw) this.rejects.reject('enosend', 'unsigned');
    const presented = header
      .trim()
      .replace(/^sha256=/i, '')
      .toLowerCase();
    if (!HEX_SHA256.test(presented)) this.rejects.reject('enosend', 'bad_signature');
    const valid = matchesAny(this.config.enosendSecrets, presented, (secret) =>
      enosendSignature(secret, raw),
    );
    if (!valid) this.rejects.reject('enosend', 'bad_signature');
    return true;
  }
}
