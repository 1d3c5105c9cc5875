/**
 * What a provider's delivery report means for our delivery status (shared/docs/API.md: one model
 * for every provider, queued → sent → delivered → read, or failed).
 */
export type DeliveryReportEffect =
  /** Move forward to this status, never backwards. */
  | { kind: 'advance'; to: 'sent' | 'delivered' | 'read' }
  /** The provider gave up on this message: fall back while the code is valid, else failed. */
  | { kind: 'failed' }
  /** Only the raw provider state is recorded on the attempt (e.g. Sinch SWITCHING_CHANNEL). */
  | { kind: 'record' };

const SINCH: Record<string, DeliveryReportEffect> = {
  QUEUED_ON_CHANNEL: { kind: 'advance', to: 'sent' },
  DELIVERED: { kind: 'advance', to: 'delivered' },
  READ: { kind: 'advance', to: 'read' },
  FAILED: { kind: 'failed' },
  SWITCHING_CHANNEL: { kind: 'record' },
};

/** The effect of a Sinch `message_delivery_report` status; undefined for a status we do not know. */
export function sinchDeliveryEffect(status: string): DeliveryReportEffect | undefined {
  return Object.hasOwn(SINCH, status) ? SINCH[status] : undefined;
}
