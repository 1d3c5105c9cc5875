import { classifyMetaError } from '../providers/index.js';
import type { DeliveryReportEffect } from './delivery-status.js';
import { isRecord, whatsappPhone } from './sinch-events.js';

/** One thing a WhatsApp Cloud API callback says, reduced to what this service acts on. */
export type MetaEvent =
  | {
      type: 'status';
      /** The wamid the send answered with (our provider message id). */
      messageId: string;
      /** Meta's status word as sent: sent, delivered, read, failed. */
      status: string;
      /** The first error's numeric code, as text (`131026`), on `failed`. */
      reason?: string;
      /** Whether the error is provider-wide (token, template, account): the provider is then marked misconfigured. */
      configurationError: boolean;
      effect: DeliveryReportEffect;
    }
  | { type: 'inbound'; phone: string; optChange?: 'out' | 'in'; at?: Date }
  | { type: 'ignored'; name: string };

/** What one callback body holds: its events in order, and how many changes were for another number. */
export interface MetaCallback {
  events: MetaEvent[];
  otherNumbers: number;
}

const EFFECTS: Record<string, DeliveryReportEffect> = {
  sent: { kind: 'advance', to: 'sent' },
  delivered: { kind: 'advance', to: 'delivered' },
  read: { kind: 'advance', to: 'read' },
  failed: { kind: 'failed' },
};

// As for Sinch (shared/docs/PROVIDERS.md): STOP / UNSUBSCRIBE opt out until START.
const OPT_OUT = new Set(['STOP', 'UNSUBSCRIBE']);
const OPT_IN = new Set(['START']);
// Meta batches, but a body is at most 1 MiB; these bound the work one body can ask for.
const MAX_EVENTS = 5000;
const MAX_ID = 200;

function text(value: unknown, max = MAX_ID): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= max ? value : undefined;
}

/**
 * Parses a verified `POST /webhooks/meta` body (`object: whatsapp_business_account`, entries →
 * changes → value.statuses / value.messages). Changes for another `phone_number_id` (or when none
 * is configured) are skipped and counted; anything not understood is an `ignored` event (answered
 * 200, so Meta does not retry it for days).
 */
export function parseMetaCallback(body: unknown, phoneNumberId: string): MetaCallback {
  const events: MetaEvent[] = [];
  let otherNumbers = 0;
  if (!isRecord(body) || body.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) {
    return { events: [{ type: 'ignored', name: 'not_whatsapp_business_account' }], otherNumbers };
  }
  for (const entry of body.entry as unknown[]) {
    const changes = isRecord(entry) && Array.isArray(entry.changes) ? (entry.changes as unknown[]) : [];
    for (const change of changes) {
      if (!isRecord(change) || change.field !== 'messages' || !isRecord(change.value)) {
        events.push({
          type: 'ignored',
          name: isRecord(change) ? (text(change.field, 64) ?? 'change') : 'change',
        });
        continue;
      }
      const value = change.value;
      const metadata = isRecord(value.metadata) ? value.metadata : {};
      if (phoneNumberId === '' || text(metadata.phone_number_id, 64) !== phoneNumberId) {
        otherNumbers += 1;
        continue;
      }
      for (const status of Array.isArray(value.statuses) ? (value.statuses as unknown[]) : []) {
        events.push(parseStatus(status));
      }
      for (const message of Array.isArray(value.messages) ? (value.messages as unknown[]) : []) {
        events.push(parseInbound(message));
      }
      if (events.length > MAX_EVENTS) return { events: events.slice(0, MAX_EVENTS), otherNumbers };
    }
  }
  return { events, otherNumbers };
}

function parseStatus(status: unknown): MetaEvent {
  if (!isRecord(status)) return { type: 'ignored', name: 'status' };
  const word = text(status.status, 32);
  const messageId = text(status.id);
  const effect = word && Object.hasOwn(EFFECTS, word) ? EFFECTS[word] : undefined;
  if (!word || !messageId || !effect) return { type: 'ignored', name: 'status' };
  const errors = Array.isArray(status.errors) ? (status.errors as unknown[]) : [];
  const first = isRecord(errors[0]) ? errors[0] : undefined;
  const code =
    first && typeof first.code === 'number' && Number.isSafeInteger(first.code) && first.code >= 0
      ? first.code
      : undefined;
  const reason = effect.kind === 'failed' ? (code !== undefined ? String(code) : 'failed') : undefined;
  const configurationError =
    effect.kind === 'failed' && code !== undefined && classifyMetaError(code)?.kind === 'configuration';
  return { type: 'status', messageId, status: word, reason, configurationError, effect };
}

function parseInbound(message: unknown): MetaEvent {
  if (!isRecord(message)) return { type: 'ignored', name: 'message' };
  const phone = whatsappPhone(message.from);
  if (!phone) return { type: 'ignored', name: 'message' };
  // A typed text, or the text of a quick-reply button the user tapped.
  const words =
    message.type === 'text' && isRecord(message.text)
      ? message.text.body
      : message.type === 'button' && isRecord(message.button)
        ? message.button.text
        : undefined;
  const keyword = typeof words === 'string' ? words.trim().toUpperCase() : '';
  const optChange = OPT_OUT.has(keyword) ? 'out' : OPT_IN.has(keyword) ? 'in' : undefined;
  return { type: 'inbound', phone, optChange, at: unixSeconds(message.timestamp) };
}

/** Meta's timestamps: Unix seconds as a string. */
function unixSeconds(value: unknown): Date | undefined {
  const s = typeof value === 'number' ? String(value) : value;
  if (typeof s !== 'string' || !/^\d{1,12}$/.test(s)) return undefined;
  return new Date(Number(s) * 1000);
}
