import type { RawBodyRequest } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** A webhook request: Fastify's, with the exact bytes received (`rawBody: true` in app creation). */
export interface WebhookRequest extends RawBodyRequest<FastifyRequest> {
  /** Sinch signature nonce claimed by the guard; released again if processing fails. */
  webhookNonce?: string;
}

export const WEBHOOK_PROVIDERS = ['sinch', 'enosend', 'meta'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

/** Label values of otp_webhook_rejects_total (a bounded set). */
export type RejectReason =
  | 'not_configured'
  | 'unsigned'
  | 'bad_signature'
  | 'bad_algorithm'
  | 'stale'
  | 'replayed';

/** A single header value; absent, empty or repeated headers count as missing. */
export function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
