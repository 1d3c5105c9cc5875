import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Which proxies to believe (TRUST_PROXY, shared/docs API.md A3):
 * - `none`: the socket peer is the client; X-Forwarded-For is ignored;
 * - `hops`: the last `n` hops are proxies; the client is the n-th address from the right of
 *   X-Forwarded-For (as Express and Fastify number hops);
 * - `cidrs`: addresses in these ranges are proxies; the client is the right-most address not in them.
 */
export type TrustProxy =
  | { kind: 'none' }
  | { kind: 'hops'; hops: number }
  | { kind: 'cidrs'; ranges: string[]; list: BlockList };

export const MAX_TRUSTED_HOPS = 10;

/** Why a TRUST_PROXY value was refused; the caller names the variable. */
export class TrustProxyError extends Error {}

/**
 * Parses TRUST_PROXY. `true` is refused: "trust every hop" makes the left-most X-Forwarded-For
 * entry, which the client writes, the client IP.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const v = (value ?? '').trim();
  if (v === '' || /^(false|0|no|off)$/i.test(v)) return { kind: 'none' };
  if (/^(true|yes|on)$/i.test(v)) {
    throw new TrustProxyError(
      'TRUST_PROXY=true is ambiguous (it would trust the client-written left-most X-Forwarded-For entry): ' +
        `set the number of proxies in front of the service (1-${MAX_TRUSTED_HOPS}) or their CIDRs`,
    );
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops < 1 || hops > MAX_TRUSTED_HOPS) {
      throw new TrustProxyError(
        `TRUST_PROXY must be false, a hop count between 1 and ${MAX_TRUSTED_HOPS}, or CIDRs`,
      );
    }
    return { kind: 'hops', hops };
  }
  const list = new BlockList();
  const ranges = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const range of ranges) {
    const [address, prefixText, extra] = range.split('/');
    const family = isIP(address);
    const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
    const max = family === 6 ? 128 : 32;
    if (
      !family ||
      extra !== undefined ||
      (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
      !(prefix >= 0 && prefix <= max)
    ) {
      throw new TrustProxyError(
        `TRUST_PROXY must be false, a hop count between 1 and ${MAX_TRUSTED_HOPS}, or comma-separated CIDRs (not an address or range: ${JSON.stringify(range.slice(0, 64))})`,
      );
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return { kind: 'cidrs', ranges, list };
}

/** `::ffff:203.0.113.9` → `203.0.113.9`; IPv6 zone ids dropped. Undefined when not an IP address. */
export function canonicalIp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let v = value.trim();
  if (v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(v);
  if (mapped) v = mapped[1];
  v = v.replace(/%.*$/, '');
  return isIP(v) ? v : undefined;
}

function inRanges(list: BlockList, ip: string): boolean {
  return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client IP of a request under `trust`: the one place X-Forwarded-For is read. An entry that
 * is not an IP address never becomes the client IP: the nearest trusted hop does (for one hop, the
 * socket peer), so garbage never yields a bucket of its own.
 */
export function resolveClientIp(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trust: TrustProxy,
): string {
  const peer = canonicalIp(socketAddress) ?? 'unknown';
  if (trust.kind === 'none') return peer;
  // Several X-Forwarded-For headers are one list, in order (RFC 9110 5.3).
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const entries = header
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Hops from the nearest: the socket peer first, then X-Forwarded-For right to left.
  const hops = [peer, ...entries.reverse()];
  if (trust.kind === 'hops') {
    let client = peer;
    for (let i = 1; i <= trust.hops && i < hops.length; i++) {
      const ip = canonicalIp(hops[i]);
      if (!ip) break;
      client = ip;
    }
    return client;
  }
  // CIDRs: walk from the nearest hop while it is a trusted proxy; the first other address is the client.
  if (peer === 'unknown' || !inRanges(trust.list, peer)) return peer;
  let nearestTrusted = peer;
  for (let i = 1; i < hops.length; i++) {
    const ip = canonicalIp(hops[i]);
    if (!ip) return nearestTrusted;
    if (!inRanges(trust.list, ip)) return ip;
    nearestTrusted = ip;
  }
  return nearestTrusted;
}

/** What a request carries that the client IP is resolved from (Fastify's request or Node's). */
interface RequestLike {
  headers?: IncomingMessage['headers'];
  raw?: { socket?: { remoteAddress?: string } };
  socket?: { remoteAddress?: string };
  /** Used as the peer address when the request carries no socket (unit tests). */
  ip?: string;
}

const CLIENT_IP = Symbol('clientIp');

/**
 * The client IP of a request, resolved once under the TRUST_PROXY the server was built with
 * (`bindTrustProxy`), and remembered on the request.
 */
export function clientIpOfRequest(req: RequestLike): string {
  const r = req as RequestLike & { [CLIENT_IP]?: string };
  if (r[CLIENT_IP]) return r[CLIENT_IP];
  const socket = req.raw?.socket ?? req.socket;
  const trust = (socket as { [TRUST]?: TrustProxy } | undefined)?.[TRUST] ?? { kind: 'none' as const };
  const ip = resolveClientIp(socket?.remoteAddress ?? req.ip, req.headers?.['x-forwarded-for'], trust);
  r[CLIENT_IP] = ip;
  return ip;
}

const TRUST = Symbol('trustProxy');

/**
 * Marks every socket a server accepts with the server's TRUST_PROXY, so clientIpOfRequest needs no
 * global state (tests run several apps with different settings in one process).
 */
export function bindTrustProxy(
  server: { on(event: 'connection', fn: (socket: object) => void): unknown },
  trust: TrustProxy,
): void {
  server.on('connection', (socket) => {
    (socket as { [TRUST]?: TrustProxy })[TRUST] = trust;
  });
}
