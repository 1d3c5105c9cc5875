import { normalisePhone } from '../common/index.js';
import { type DeliveryReportEffect, sinchDeliveryEffect } from './delivery-status.js';

/** A Sinch Conversation callback, reduced to what this service acts on. */
export type SinchEvent =
  | {
      type: 'delivery_report';
      /** Our verification id, from message_metadata (only when it is a UUID). */
      codeId?: string;
      /** The attempt, from message_metadata `codeId:attemptId` (what we send since crash-safe delivery). */
      attemptId?: string;
      /** Sinch's message id: required, a report acts only on the message it names. */
      messageId: string;
      /** The provider's state as sent (e.g. QUEUED_ON_CHANNEL) and its reason code. */
      status: string;
      reason?: string;
      effect: DeliveryReportEffect;
    }
  | { type: 'inbound'; phone: string; optChange?: 'out' | 'in'; at?: Date }
  | { type: 'ignored'; name: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPT_OUT = new Set(['STOP', 'UNSUBSCRIBE']);
const OPT_IN = new Set(['START']);
// Bounds on provider strings we store or use as keys.
const MAX_ID = 200;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, max = MAX_ID): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= max ? value : undefined;
}

/** Parses a Sinch callback body; everything not understood is `ignored` (answered 2xx, not retried). */
export function parseSinchEvent(body: unknown): SinchEvent {
  if (!isRecord(body)) return { type: 'ignored', name: 'not_an_object' };
  const report = body.message_delivery_report;
  if (isRecord(report)) return parseDeliveryReport(body, report);
  const message = body.message;
  if (isRecord(message)) return parseInbound(body, message);
  const name = Object.keys(body).find((k) => k.endsWith('_notification') || k.endsWith('_event'));
  return { type: 'ignored', name: name ?? 'unknown' };
}

function parseDeliveryReport(body: Record<string, unknown>, report: Record<string, unknown>): SinchEvent {
  const status = text(report.status, 64);
  const effect = status ? sinchDeliveryEffect(status) : undefined;
  if (!status || !effect) return { type: 'ignored', name: 'message_delivery_report' };
  const metadata = (text(body.message_metadata) ?? text(report.metadata))?.split(':');
  const [code, attempt] = metadata ?? [];
  const codeId = code && UUID.test(code) ? code.toLowerCase() : undefined;
  const attemptId = codeId && attempt && UUID.test(attempt) ? attempt.toLowerCase() : undefined;
  const messageId = text(report.message_id);
  // A report that names no message acts on nothing (message_metadata alone is not enough).
  if (!messageId) return { type: 'ignored', name: 'message_delivery_report' };
  const reason = isRecord(report.reason) ? text(report.reason.code, 128) : undefined;
  return { type: 'delivery_report', codeId, attemptId, messageId, status, reason, effect };
}

function parseInbound(body: Record<string, unknown>, message: Record<string, unknown>): SinchEvent {
  const contactMessage = message.contact_message;
  const identity = message.channel_identity;
  if (message.direction !== 'TO_APP' || !isRecord(contactMessage) || !isRecord(identity)) {
    return { type: 'ignored', name: 'message' };
  }
  if (identity.channel !== 'WHATSAPP') return { type: 'ignored', name: 'message' };
  const phone = whatsappPhone(identity.identity);
  if (!phone) return { type: 'ignored', name: 'message' };
  const textMessage = contactMessage.text_message;
  const words = isRecord(textMessage) && typeof textMessage.text === 'string' ? textMessage.text : '';
  const keyword = words.trim().toUpperCase();
  const optChange = OPT_OUT.has(keyword) ? 'out' : OPT_IN.has(keyword) ? 'in' : undefined;
  const at = parseTime(message.accept_time) ?? parseTime(body.event_time) ?? parseTime(body.accepted_time);
  return { type: 'inbound', phone, optChange, at };
}

/** A WhatsApp identity (digits, with or without `+`) as the E.164 key of whatsapp_contacts. */
export function whatsappPhone(identity: unknown): string | undefined {
  if (typeof identity !== 'string') return undefined;
  const digits = identity.trim().replace(/^\+/, '');
  if (!/^\d{6,15}$/.test(digits)) return undefined;
  // Same normalisation as /v1/otp/send, so the contact row matches the numbers we send to.
  return normalisePhone(`+${digits}`)?.e164 ?? `+${digits}`;
}

function parseTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}
