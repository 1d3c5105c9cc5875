import { Inject, Injectable, Optional } from '@nestjs/common';
import { providersConfig, type ProvidersConfig } from '../../config/index.js';
import {
  errorCodeOf,
  httpError,
  invalidResponse,
  isRecord,
  joinUrl,
  kindOfStatus,
  ProviderHttpClient,
  type ProviderResponse,
} from '../http/index.js';
import { renderOtpMessage } from '../message.js';
import type { OtpMessage, SendResult, WhatsAppProvider } from '../provider.interface.js';
import { SinchTokenSource } from './sinch-token.js';

export interface SinchOptions {
  /** Clock for token expiry, epoch milliseconds (default Date.now). */
  now?: () => number;
}

/**
 * Sinch Conversation API: OAuth2 bearer token (see SinchTokenSource), then
 * `POST {apiBase}/v1/projects/{projectId}/messages:send`. An approved template by default; free
 * text only inside the 24 h session window (the contact wrote to us recently).
 */
@Injectable()
export class SinchProvider implements WhatsAppProvider {
  readonly name = 'sinch' as const;
  private readonly http: ProviderHttpClient;
  private readonly url: string;
  readonly tokens: SinchTokenSource;

  constructor(
    @Inject(providersConfig.KEY) private readonly config: ProvidersConfig,
    @Optional() options?: SinchOptions,
  ) {
    this.http = new ProviderHttpClient('sinch', config.timeoutMs);
    this.tokens = new SinchTokenSource(config.sinch, this.http, options?.now);
    this.url = joinUrl(
      config.sinch.apiBase,
      `/v1/projects/${encodeURIComponent(config.sinch.projectId)}/messages:send`,
    );
  }

  async send(message: OtpMessage, signal?: AbortSignal): Promise<SendResult> {
    const body = this.body(message);
    let token = await this.tokens.getToken(signal);
    let res = await this.post(token, body, signal);
    if (res.status === 401) {
      // The token may have been revoked or expired early: one fresh token, one more try.
      this.tokens.invalidate(token);
      token = await this.tokens.getToken(signal);
      res = await this.post(token, body, signal);
    }
    const json = res.json;
    if (res.status >= 200 && res.status < 300) {
      const id = isRecord(json) ? json.message_id : undefined;
      if (typeof id === 'string' && id !== '') return { providerMessageId: id, providerStatus: 'accepted' };
      // 2xx carrying a Sinch error object: read its numeric code as the status it stands for.
      const error = isRecord(json) && isRecord(json.error) ? json.error : undefined;
      if (error && typeof error.code === 'number' && error.code >= 400) {
        throw httpError('sinch', res, kindOfStatus(error.code), errorCodeOf(json) ?? `http_${error.code}`);
      }
      throw invalidResponse('sinch', res);
    }
    // Sinch errors: { error: { code: 400, message, status: "INVALID_ARGUMENT", details } }.
    throw httpError('sinch', res);
  }

  close(): void {
    this.http.close();
  }

  private post(token: string, data: unknown, signal?: AbortSignal): Promise<ProviderResponse> {
    return this.http.request({
      method: 'POST',
      url: this.url,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      data,
      signal,
    });
  }

  /** The exact JSON of PROVIDERS.md. */
  private body(message: OtpMessage): Record<string, unknown> {
    const { appId, templateId, templateLanguage } = this.config.sinch;
    const content = message.withinSessionWindow
      ? { text_message: { text: renderOtpMessage(message) } }
      : {
          template_message: {
            channel_template: {
              WHATSAPP: {
                template_id: templateId,
                language_code: templateLanguage,
                parameters: { code: message.code },
              },
            },
          },
        };
    return {
      app_id: appId,
      recipient: {
        identified_by: { channel_identities: [{ channel: 'WHATSAPP', identity: message.phone }] },
      },
      message: content,
      channel_priority_order: ['WHATSAPP'],
      // Our client reference, derived from the attempt: reports name the attempt they are about.
      message_metadata: message.attemptId ? `${message.codeId}:${message.attemptId}` : message.codeId,
    };
  }
}
