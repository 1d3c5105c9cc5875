import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { appConfig, type AppConfig } from '../../config/index.js';
import { ApiException } from '../errors/api.exception.js';

/** The calling backend, as named in CLIENT_API_KEYS; set on the request by ApiKeyGuard. */
export interface AuthenticatedRequest extends FastifyRequest {
  client?: string;
}

/**
 * `Authorization: Bearer <secret>` against CLIENT_API_KEYS. Every configured key is compared, in
 * constant time over fixed-length digests, so neither timing nor key count tells how close a guess was.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly clients: { name: string; digest: Buffer }[];

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.clients = config.clients.map((c) => ({ name: c.name, digest: digest(c.secret) }));
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const presented = digest(match?.[1] ?? '');
    let name: string | undefined;
    for (const client of this.clients) {
      if (timingSafeEqual(client.digest, presented) && match) name ??= client.name;
    }
    if (!name) {
      throw new ApiException('unauthorized', 'Missing or invalid API key', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    request.client = name;
    return true;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
