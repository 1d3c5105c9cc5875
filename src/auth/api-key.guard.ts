import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { appConfig, type AppConfig } from '../config/index.js';
import { DomainError, assertJsonRequest } from '../common/index.js';

/** Why a request was not authenticated: logged on its access line, never with key material. */
export type AuthFailure = 'missing_key' | 'malformed_authorization' | 'unknown_key' | 'unknown_token';

/** The calling backend, as named in CLIENT_API_KEYS; set on the request by ApiKeyGuard. */
export interface AuthenticatedRequest extends FastifyRequest {
  client?: string;
  /** Set by the guards on a 401: read by the access log (app.factory.ts). */
  authFailure?: AuthFailure;
}

/** The token of `Authorization: Bearer <token>`, or why there is none. */
export function bearerOf(
  header: string | string[] | undefined,
): { token: string; failure?: undefined } | { token?: undefined; failure: AuthFailure } {
  if (header === undefined || header === '') return { failure: 'missing_key' };
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? { token: match[1] } : { failure: 'malformed_authorization' };
}

/**
 * `Authorization: Bearer <secret>` against CLIENT_API_KEYS. Every configured key is compared, in
 * constant time over fixed-length digests, so neither timing nor key count tells how close a guess was.
 * Then the content type (shared/docs API.md Decision 4: authentication, then 415, then validation).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly clients: { name: string; digest: Buffer }[];

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.clients = config.clients.map((c) => ({ name: c.name, digest: digest(c.secret) }));
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const bearer = bearerOf(request.headers.authorization);
    const presented = digest(bearer.token ?? '');
    let name: string | undefined;
    for (const client of this.clients) {
      if (timingSafeEqual(client.digest, presented) && bearer.token !== undefined) name ??= client.name;
    }
    if (!name) {
      request.authFailure = bearer.failure ?? 'unknown_key';
      throw new DomainError('unauthorized');
    }
    request.client = name;
    assertJsonRequest(request.headers);
    return true;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
