import { Logger } from '@nestjs/common';
import type { ProvidersConfig } from '../../config/index.js';
import {
  abortable,
  errorCodeOf,
  httpError,
  invalidResponse,
  isRecord,
  kindOfStatus,
  type ProviderHttpClient,
} from '../http/index.js';
import { ProviderError } from '../provider.error.js';

/** Refresh this long before expiry, or 10 % of the lifetime when that is shorter. */
const REFRESH_MARGIN_MS = 60_000;
const DEFAULT_EXPIRES_IN_S = 300;

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is no longer handed out. */
  refreshAt: number;
}

/**
 * OAuth2 client credentials for the Sinch Conversation API. Caches the access token until shortly
 * before it expires; concurrent callers share one in-flight token request (single flight). The
 * token and the key secret are never logged.
 */
export class SinchTokenSource {
  private readonly logger = new Logger(SinchTokenSource.name);
  private cached?: CachedToken;
  private inflight?: Promise<CachedToken>;
  private requests = 0;

  constructor(
    private readonly config: ProvidersConfig['sinch'],
    private readonly http: ProviderHttpClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** Token requests sent so far (for metrics and tests). */
  get tokenRequests(): number {
    return this.requests;
  }

  /**
   * A valid access token. `signal` only stops this caller from waiting: a shared token request
   * goes on for the others.
   */
  async getToken(signal?: AbortSignal): Promise<string> {
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAt) return cached.token;
    if (!this.inflight) {
      this.inflight = this.fetchToken().finally(() => {
        this.inflight = undefined;
      });
    }
    return (await abortable('sinch', this.inflight, signal)).token;
  }

  /**
   * Forgets `token` after Sinch refused it. Only that token: if another caller already replaced
   * it, the fresh one stays, so N callers refused at once cause one refresh, not N.
   */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<CachedToken> {
    this.requests += 1;
    const basic = Buffer.from(`${this.config.keyId}:${this.config.keySecret}`, 'utf8').toString('base64');
    const requestedAt = this.now();
    let res;
    try {
      // No caller signal: the request is shared; its own timeout bounds it.
      res = await this.http.request({
        method: 'POST',
        url: this.config.authUrl,
        headers: {
          Authorization: `Basic ${basic}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        data: 'grant_type=client_credentials',
      });
    } catch (err) {
      throw this.failed(
        err instanceof ProviderError
          ? err
          : new ProviderError('sinch', 'retryable', 'token_error', 'sinch token request failed'),
      );
    }
    const body = res.json;
    if (res.status >= 200 && res.status < 300) {
      const token = isRecord(body) ? body.access_token : undefined;
      if (typeof token !== 'string' || token === '') throw this.failed(invalidResponse('sinch', res));
      const expiresIn =
        isRecord(body) && typeof body.expires_in === 'number' && body.expires_in > 0
          ? body.expires_in
          : DEFAULT_EXPIRES_IN_S;
      const lifetimeMs = expiresIn * 1000;
      const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs * 0.1);
      const fresh = { token, refreshAt: requestedAt + lifetimeMs - margin };
      this.cached = fresh;
      return fresh;
    }
    // OAuth errors look like { error: "invalid_client" }.
    const code = errorCodeOf(body) ?? `token_http_${res.status}`;
    // Any other refusal by the token endpoint (400/401/403/404…): the key, the URL or the request
    // is wrong, and retrying will not help. 429 and 5xx are passing.
    const status = kindOfStatus(res.status);
    const kind = status === 'retryable' || status === 'rate_limited' ? status : 'configuration';
    throw this.failed(httpError('sinch', res, kind, code));
  }

  private failed(error: ProviderError): ProviderError {
    this.logger.warn(
      { provider: 'sinch', errorCode: error.errorCode, status: error.options.httpStatus, kind: error.kind },
      'sinch token request failed',
    );
    return error;
  }
}
