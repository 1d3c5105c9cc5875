import { randomUUID } from 'node:crypto';
import { enosendSignature, sinchSignature } from '../../src/webhooks/webhook-signature.js';

/** Headers Sinch would send with `raw`, signed with `secret`; each part can be overridden. */
export function sinchHeaders(
  secret: string,
  raw: string | Buffer,
  clock: { now(): Date },
  overrides: { nonce?: string; timestamp?: string; algorithm?: string } = {},
): Record<string, string> {
  const nonce = overrides.nonce ?? randomUUID();
  const timestamp = overrides.timestamp ?? String(Math.floor(clock.now().getTime() / 1000));
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  return {
    'content-type': 'application/json',
    'x-sinch-webhook-signature': sinchSignature(secret, bytes, nonce, timestamp),
    'x-sinch-webhook-signature-nonce': nonce,
    'x-sinch-webhook-signature-timestamp': timestamp,
    'x-sinch-webhook-signature-algorithm': overrides.algorithm ?? 'HmacSHA256',
  };
}

/** Headers EnoSend would send with `raw`. */
export function enosendHeaders(secret: string, raw: string | Buffer, prefix = ''): Record<string, string> {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  return {
    'content-type': 'application/json',
    'x-enosend-signature': `${prefix}${enosendSignature(secret, bytes)}`,
  };
}

/** A Sinch message_delivery_report body. */
export function sinchReport(
  codeId: string | undefined,
  messageId: string,
  status: string,
  reason?: string,
): Record<string, unknown> {
  return {
    app_id: 'app-test',
    accepted_time: new Date().toISOString(),
    project_id: 'project-test',
    message_delivery_report: {
      message_id: messageId,
      conversation_id: 'conv-1',
      status,
      channel_identity: { channel: 'WHATSAPP', identity: '233240000000', app_id: 'app-test' },
      contact_id: 'contact-1',
      ...(reason ? { reason: { code: reason, description: 'reason from the fake' } } : {}),
      processing_mode: 'CONVERSATION',
    },
    message_metadata: codeId ?? '',
  };
}

/** A Sinch inbound WhatsApp text message from `phone` (E.164); Sinch sends the identity without `+`. */
export function sinchInbound(phone: string, text: string): Record<string, unknown> {
  return {
    app_id: 'app-test',
    accepted_time: new Date().toISOString(),
    message: {
      id: randomUUID(),
      direction: 'TO_APP',
      contact_message: { text_message: { text } },
      channel_identity: { channel: 'WHATSAPP', identity: phone.replace('+', ''), app_id: 'app-test' },
      conversation_id: 'conv-1',
      contact_id: 'contact-1',
      metadata: '',
    },
    message_metadata: '',
  };
}
