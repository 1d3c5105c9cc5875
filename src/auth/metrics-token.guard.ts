import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { securityConfig, type SecurityConfig } from '../config/index.js';
import { DomainError } from '../common/index.js';
import { bearerOf, type AuthenticatedRequest } from './api-key.guard.js';

/**
 * GET /metrics: when METRICS_TOKEN is set, `Authorization: Bearer <METRICS_TOKEN>` is required
 * (shared/docs API.md A4); compared in constant time over fixed-length digests. Unset: open, for
 * deployments that keep /metrics off any public route.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly digest?: Buffer;

  constructor(@Inject(securityConfig.KEY) config: SecurityConfig) {
    this.digest = config.metricsToken ? sha256(config.metricsToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.digest) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const bearer = bearerOf(request.headers.authorization);
    const matches = timingSafeEqual(this.digest, sha256(bearer.token ?? ''));
    if (bearer.token !== undefined && matches) return true;
    request.authFailure = bearer.token === undefined ? bearer.failure : 'unknown_token';
    throw new DomainError('unauthorized', { message: 'metricsToken' });
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
