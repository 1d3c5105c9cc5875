import { isRecord } from './sinch-events.js';

/** An EnoSend callback, reduced to what this service acts on (shared/docs/PROVIDERS.md). */
export type EnoSendEvent =
  | { type: 'instance_state'; instanceId?: string; state: string; timestamp: unknown; observedAt?: Date }
  | { type: 'ignored'; name: string };

const STATE = /^[a-z][a-z0-9_.-]{0,63}$/;

/**
 * `{ "event": "instance.state", "instance_id", "state": "connected" | "disconnected" | …, "timestamp" }`.
 * Message status events have no documented webhook shape (EnoSend's status is polled), so they and
 * anything else are accepted and ignored.
 */
export function parseEnoSendEvent(body: unknown): EnoSendEvent {
  if (!isRecord(body)) return { type: 'ignored', name: 'not_an_object' };
  const event = typeof body.event === 'string' && body.event.length <= 64 ? body.event : 'unknown';
  if (event !== 'instance.state') return { type: 'ignored', name: event };
  const state = typeof body.state === 'string' ? body.state.trim().toLowerCase() : '';
  if (!STATE.test(state)) return { type: 'ignored', name: event };
  const instanceId =
    typeof body.instance_id === 'string' && body.instance_id.length <= 200 ? body.instance_id : undefined;
  const timestamp =
    typeof body.timestamp === 'number' || typeof body.timestamp === 'string' ? body.timestamp : null;
  return { type: 'instance_state', instanceId, state, timestamp, observedAt: parseTimestamp(timestamp) };
}

/** Unix seconds, Unix milliseconds (as number or digits) or an ISO date. */
export function parseTimestamp(value: unknown): Date | undefined {
  let ms: number;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{1,16}(\.\d+)?$/.test(value))) {
    const n = Number(value);
    // Below 10^11 it can only be seconds (10^11 ms is 1973; 10^11 s is the year 5138).
    ms = n < 1e11 ? n * 1000 : n;
  } else if (typeof value === 'string' && value.length <= 64) {
    ms = Date.parse(value);
  } else {
    return undefined;
  }
  return Number.isFinite(ms) && ms > 0 ? new Date(ms) : undefined;
}
