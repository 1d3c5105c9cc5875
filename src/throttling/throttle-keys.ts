import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { normalizeIp } from '@nestjs/throttler';
import { clientIpOfRequest } from '../common/index.js';

/**
 * Throttler names: each is a separate bucket, a metric label and the `details.throttler` of a 429.
 * (The per-phone limits, `send-phone` and `verify-phone`, are counted in PostgreSQL: otp/phone-limits.ts.)
 */
export const SEND_IP = 'send-ip';
export const VERIFY_IP = 'verify-ip';
export const COUNTRY_CAP = 'country-cap';
export const GLOBAL_CAP = 'global-cap';
export const COUNTRY_NOT_ALLOWED = 'country-not-allowed';
export const STORE_UNAVAILABLE = 'store-unavailable';

/** The rolling window of the hourly limits (API.md A2: any 60-minute span). */
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

/** What the request limits read from a request (after authentication and validation). */
export interface ThrottledRequest {
  body?: unknown;
  ip?: string;
  /** The calling backend, set by ApiKeyGuard (which runs first). */
  client?: string;
}

function bodyOf(req: ThrottledRequest): Record<string, unknown> {
  const body = req.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

/**
 * The end user's IP: `clientIp` from the calling backend when it is an IP, else the peer address
 * as resolved under TRUST_PROXY (src/common/http/client-ip.ts: the socket, or X-Forwarded-For
 * through trusted hops only). IPv6 addresses count per /64, as one host owns one.
 */
export function clientIpOf(req: ThrottledRequest): string {
  const body = bodyOf(req);
  const forwarded = typeof body.clientIp === 'string' && isIP(body.clientIp) ? body.clientIp : undefined;
  return normalizeIp(forwarded ?? clientIpOfRequest(req));
}

/**
 * `client|ip`: IP buckets belong to one calling client, so a tenant that forwards (or forges) an
 * IP cannot exhaust another tenant's users behind the same address.
 */
export function ipTracker(req: ThrottledRequest): string {
  return `${req.client ?? '-'}|${clientIpOf(req)}`;
}

/**
 * Storage key of a bucket: the prefix, the limit's name and a keyed hash of the tracker, so Redis
 * never holds a phone number or an IP in clear. The key is deriveThrottleKey(OTP_HASH_SECRET):
 * deterministic across replicas sharing the secret, and across rotations (see there).
 */
export function throttleKey(prefix: string, name: string, tracker: string, key: Buffer): string {
  return `${prefix}${name}:${createHmac('sha256', key).update(tracker).digest('base64url')}`;
}
