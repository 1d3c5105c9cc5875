import { Inject, Injectable } from '@nestjs/common';
import { providersConfig, type ProvidersConfig } from '../../config/index.js';
import {
  httpError,
  invalidResponse,
  isRecord,
  joinUrl,
  kindOfStatus,
  type ProviderResponse,
} from '../http/index.js';
import { ProviderHttpClient } from '../http/index.js';
import { ProviderError } from '../provider.error.js';
import type { OtpMessage, SendResult, WhatsAppProvider } from '../provider.interface.js';
import { classifyMetaError } from './meta-errors.js';

/** A Cloud API error object: `{ error: { message, type, code, error_subcode, fbtrace_id } }`. */
export interface MetaApiError {
  code: number;
  subcode?: number;
}

/**
 * WhatsApp Cloud API (Meta): `POST {base}/{version}/{phoneNumberId}/messages` with a Bearer
 * System User token, sending the approved AUTHENTICATION template. Meta renders the text itself
 * ("<code> is your verification code."); the code goes in twice: the body parameter and the
 * copy-code button, which is sent as a `url` button at index "0". Never free text.
 */
@Injectable()
export class MetaProvider implements WhatsAppProvider {
  readonly name = 'meta' as const;
  private readonly http: ProviderHttpClient;
  private readonly url: string;

  constructor(@Inject(providersConfig.KEY) private readonly config: ProvidersConfig) {
    const { graphApiBase, graphApiVersion, phoneNumberId } = config.meta;
    this.http = new ProviderHttpClient('meta', config.timeoutMs);
    this.url = joinUrl(
      graphApiBase,
      `/${encodeURIComponent(graphApiVersion)}/${encodeURIComponent(phoneNumberId)}/messages`,
    );
  }

  async send(message: OtpMessage, signal?: AbortSignal): Promise<SendResult> {
    const res = await this.http.request({
      method: 'POST',
      url: this.url,
      headers: {
        Authorization: `Bearer ${this.config.meta.accessToken}`,
        'Content-Type': 'application/json',
      },
      data: this.body(message),
      signal,
    });
    const error = metaErrorOf(res.json);
    if (error) throw classified(res, error);
    if (res.status >= 200 && res.status < 300) {
      const messages = isRecord(res.json) ? res.json.messages : undefined;
      const first: unknown = Array.isArray(messages) ? messages[0] : undefined;
      const id = isRecord(first) ? first.id : undefined;
      if (typeof id === 'string' && id !== '' && id.length <= 200) {
        const status =
          isRecord(first) && typeof first.message_status === 'string' ? first.message_status : '';
        return { providerMessageId: id, providerStatus: /^[a-z_]{1,32}$/.test(status) ? status : 'accepted' };
      }
      throw invalidResponse('meta', res);
    }
    // No Meta error object (a proxy's page, an empty 5xx): the HTTP status decides.
    throw httpError('meta', res, kindOfStatus(res.status), `http_${res.status}`);
  }

  close(): void {
    this.http.close();
  }

  /** The exact JSON of PROVIDERS.md ("WhatsApp Cloud API (Meta)"). */
  private body(message: OtpMessage): Record<string, unknown> {
    const { templateName, templateLanguage } = this.config.meta;
    const code = [{ type: 'text', text: message.code }];
    return {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: message.phone.replace(/^\+/, ''),
      type: 'template',
      template: {
        name: templateName,
        language: { code: templateLanguage },
        components: [
          { type: 'body', parameters: code },
          { type: 'button', sub_type: 'url', index: '0', parameters: code },
        ],
      },
    };
  }
}

/** The numeric code (and subcode) of a Cloud API error body; undefined when there is none. */
export function metaErrorOf(body: unknown): MetaApiError | undefined {
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const code = toInt(body.error.code);
  if (code === undefined) return undefined;
  return { code, subcode: toInt(body.error.error_subcode) };
}

function toInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,9}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * A ProviderError for a Cloud API error: classified by `error.code` whatever the HTTP status; an
 * unknown code falls back to the status (5xx retryable, 401/403 configuration, other 4xx permanent).
 * The error code kept is Meta's number (`131026`), never its message text (it may echo the number).
 */
function classified(res: ProviderResponse, error: MetaApiError): ProviderError {
  const known = classifyMetaError(error.code);
  const kind =
    known?.kind ?? (res.status >= 200 && res.status < 300 ? 'retryable' : kindOfStatus(res.status));
  const errorCode = String(error.code);
  return new ProviderError(
    'meta',
    kind,
    errorCode,
    `meta answered HTTP ${res.status} (${errorCode}${error.subcode === undefined ? '' : `/${error.subcode}`})`,
    {
      httpStatus: res.status,
      retryAfterMs: known?.retryAfterMs,
      ...(known?.scope ? { scope: known.scope } : {}),
    },
  );
}
