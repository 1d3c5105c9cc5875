import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock, DomainError } from '../common/index.js';
import { RetentionSweeper, type RetentionSweep } from '../delivery/index.js';
import { PrismaService } from '../prisma/index.js';

const RETENTION_MS = 24 * 60 * 60 * 1000;
/** An in-progress record older than this belongs to a request that died; a retry may take it over. */
const IN_PROGRESS_STALE_MS = 60 * 1000;

export type IdempotencyClaim = { kind: 'claimed' } | { kind: 'replay'; status: number; body: unknown };

/**
 * Idempotency-Key on send, with the semantics of the IETF httpapi idempotency-key draft (and
 * Stripe's): a key is remembered for 24 h per calling client; the same key and body replays the
 * first response; another body is 422; a retry while the first request runs is 409. The claim is a
 * single INSERT … ON CONFLICT, so concurrent duplicates can never both proceed.
 */
@Injectable()
@RetentionSweeper()
export class IdempotencyService implements RetentionSweep {
  constructor(
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
  ) {}

  static fingerprint(body: unknown): string {
    return createHash('sha256').update(canonicalJson(body)).digest('hex');
  }

  async claim(client: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + RETENTION_MS);
    const staleBefore = new Date(now.getTime() - IN_PROGRESS_STALE_MS);
    const claimed = await this.prisma.$queryRaw<{ claimed: boolean }[]>`
      INSERT INTO idempotency_keys (client, key, request_hash, state, created_at, expires_at)
      VALUES (${client}, ${key}, ${requestHash}, 'in_progress', ${now}, ${expiresAt})
      ON CONFLICT (client, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response_status = NULL,
            response_body = NULL, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        WHERE idempotency_keys.expires_at <= ${now}
           OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.created_at < ${staleBefore}
               AND idempotency_keys.request_hash = EXCLUDED.request_hash)
      RETURNING true AS claimed`;
    if (claimed.length > 0) return { kind: 'claimed' };

    const existing = await this.prisma.idempotencyKey.findUnique({ where: { client_key: { client, key } } });
    if (!existing) return this.claim(client, key, requestHash);
    if (existing.requestHash !== requestHash) {
      throw new DomainError('idempotency_key_reused');
    }
    if (existing.state !== 'completed' || existing.responseStatus === null) {
      throw new DomainError('idempotency_in_progress', { retryAfterSeconds: 1 });
    }
    return { kind: 'replay', status: existing.responseStatus, body: existing.responseBody };
  }

  async complete(client: string, key: string, status: number, body: unknown): Promise<void> {
    await this.prisma.idempotencyKey.update({
      where: { client_key: { client, key } },
      data: { state: 'completed', responseStatus: status, responseBody: body as object },
    });
  }

  /** The request failed: forget the key so the client can retry with it. */
  async release(client: string, key: string): Promise<void> {
    await this.prisma.idempotencyKey.deleteMany({ where: { client, key, state: 'in_progress' } });
  }

  /** Retention (owner of idempotency_keys): keys past their 24 h. */
  async sweep(now: Date): Promise<{ idempotencyKeys: number }> {
    const idempotencyKeys = await this.prisma
      .$executeRaw`DELETE FROM idempotency_keys WHERE expires_at < ${now}`;
    return { idempotencyKeys };
  }
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
