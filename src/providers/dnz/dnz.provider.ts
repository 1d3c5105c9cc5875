import { Inject, Injectable } from '@nestjs/common';
import { providersConfig, type ProvidersConfig } from '../../config/index.js';
import {
  errorCodeOf,
  httpError,
  invalidResponse,
  isRecord,
  joinUrl,
  ProviderHttpClient,
} from '../http/index.js';
import { renderOtpMessage } from '../message.js';
import type { ProviderErrorKind } from '../provider.error.js';
import type { OtpMessage, SendResult, WhatsAppProvider } from '../provider.interface.js';

/** DNZ's documented error codes and what each means for us. */
const DNZ_ERRORS: Record<string, ProviderErrorKind> = {
  missing_fields: 'permanent', // our bug: an incomplete payload does not get better on retry
  invalid_number: 'permanent',
  invalid_api_key: 'configuration',
  send_otp_failed: 'retryable',
};

/**
 * DNZ WhatsApp OTP engine: `POST {baseUrl}/api/send-otp` with `{ apiKey, number, message }`.
 * 202 `{ accepted: true, jobId }` means queued; DNZ has no status endpoint and no callback.
 * Failures are thrown as ProviderError and logged by the delivery engine, not here.
 */
@Injectable()
export class DnzProvider implements WhatsAppProvider {
  readonly name = 'dnz' as const;
  private readonly http: ProviderHttpClient;
  private readonly url: string;
  private readonly apiKey: string;

  constructor(@Inject(providersConfig.KEY) config: ProvidersConfig) {
    this.http = new ProviderHttpClient('dnz', config.timeoutMs);
    this.url = joinUrl(config.dnz.baseUrl, '/api/send-otp');
    this.apiKey = config.dnz.apiKey;
  }

  async send(message: OtpMessage, signal?: AbortSignal): Promise<SendResult> {
    const res = await this.http.request({
      method: 'POST',
      url: this.url,
      headers: { 'Content-Type': 'application/json' },
      // The key travels in the body (DNZ's scheme); the body is never logged.
      data: { apiKey: this.apiKey, number: message.phone, message: renderOtpMessage(message) },
      signal,
    });
    const body = res.json;
    if (res.status >= 200 && res.status < 300) {
      const jobId = isRecord(body) ? body.jobId : undefined;
      const accepted = isRecord(body) && body.accepted === true;
      if (accepted && (typeof jobId === 'string' || typeof jobId === 'number') && `${jobId}` !== '') {
        return { providerMessageId: `${jobId}`, providerStatus: 'accepted' };
      }
      // A 2xx with an error body: trust a documented code, otherwise the send is in doubt → retry.
      const code = errorCodeOf(body);
      if (code === undefined) throw invalidResponse('dnz', res);
      throw httpError('dnz', res, DNZ_ERRORS[code] ?? 'retryable', code);
    }
    const code = errorCodeOf(body);
    const known = code !== undefined ? DNZ_ERRORS[code] : undefined;
    // A documented code decides only within its own status class (a 5xx is never permanent).
    const kind = known && (res.status < 500 || known === 'retryable') ? known : undefined;
    throw httpError('dnz', res, kind);
  }

  close(): void {
    this.http.close();
  }
}
