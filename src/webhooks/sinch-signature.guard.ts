import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { webhooksConfig, type WebhooksConfig } from '../config/index.js';
import { WebhookReceiptsService } from './webhook-receipts.service.js';
import { WebhookRejects } from './webhook-rejects.js';
import { headerOf, type WebhookRequest } from './webhook-request.js';
import { matchesAny, sinchSignature } from './webhook-signature.js';

export const SINCH_ALGORITHM = 'HmacSHA256';
// Nonces and timestamps are short; anything longer is not Sinch and is not hashed or stored.
const MAX_HEADER_LENGTH = 256;

/**
 * Verifies a Sinch Conversation callback before its body is trusted, in this order: all four
 * headers present, algorithm HmacSHA256, signature over the raw bytes under any configured secret,
 * timestamp within the tolerance of the clock, nonce never seen (stored in PostgreSQL, shared by
 * every replica). The nonce is claimed last, so a forged or stale request stores nothing.
 */
@Injectable()
export class SinchSignatureGuard implements CanActivate {
  constructor(
    @Inject(webhooksConfig.KEY) private readonly config: WebhooksConfig,
    private readonly clock: Clock,
    private readonly receipts: WebhookReceiptsService,
    private readonly rejects: WebhookRejects,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WebhookRequest>();
    // Fail closed: without a configured secret nothing can be verified, so nothing is accepted.
    if (this.config.sinchSecrets.length === 0) this.rejects.reject('sinch', 'not_configured');
    const signature = headerOf(request, 'x-sinch-webhook-signature');
    const nonce = headerOf(request, 'x-sinch-webhook-signature-nonce');
    const timestamp = headerOf(request, 'x-sinch-webhook-signature-timestamp');
    const algorithm = headerOf(request, 'x-sinch-webhook-signature-algorithm');
    const raw = request.rawBody;
    if (!signature || !nonce || !timestamp || !algorithm || !raw) this.rejects.reject('sinch', 'unsigned');
    if (algorithm !== SINCH_ALGORITHM) this.rejects.reject('sinch', 'bad_algorithm');
    if ([signature, nonce, timestamp].some((h) => h.length > MAX_HEADER_LENGTH)) {
      this.rejects.reject('sinch', 'bad_signature');
    }
    const valid = matchesAny(this.config.sinchSecrets, signature, (secret) =>
      sinchSignature(secret, raw, nonce, timestamp),
    );
    if (!valid) this.rejects.reject('sinch', 'bad_signature');
    if (!this.isFresh(timestamp)) this.rejects.reject('sinch', 'stale');
    if (!(await this.receipts.claim('sinch', 'nonce', nonce))) this.rejects.reject('sinch', 'replayed');
    request.webhookNonce = nonce;
    return true;
  }

  /** Unix seconds within ±tolerance of now (Sinch's clock may run a little ahead of ours). */
  private isFresh(timestamp: string): boolean {
    if (!/^\d{1,12}$/.test(timestamp)) return false;
    const skewSeconds = Math.abs(this.clock.now().getTime() / 1000 - Number(timestamp));
    return skewSeconds <= this.config.toleranceSeconds;
  }
}
