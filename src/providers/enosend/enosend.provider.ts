import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { providersConfig, type ProvidersConfig } from '../../config/index.js';
import {
  abortedError,
  errorCodeOf,
  httpError,
  invalidResponse,
  isRecord,
  joinUrl,
  ProviderHttpClient,
  type ProviderResponse,
} from '../http/index.js';
import { renderOtpMessage } from '../message.js';
import { ProviderError, type ProviderErrorKind } from '../provider.error.js';
import type {
  OtpMessage,
  ProviderDeliveryState,
  SendResult,
  WhatsAppProvider,
} from '../provider.interface.js';

export interface EnoSendOptions {
  /** Delay between two status polls (default 250 ms). */
  pollIntervalMs?: number;
}

const DELIVERY_STATES: readonly string[] = ['queued', 'sent', 'delivered', 'failed'];
const FINAL_STATES: readonly ProviderDeliveryState[] = ['sent', 'delivered', 'failed'];

/** Words in an `ok: false` answer that mean "try again later" or "the account is wrong". */
const RETRY_HINT =
  /disconnect|not[ _-]?connected|offline|timed?[ _-]?out|temporar|rate|too[ _-]?many|try[ _-]?again|unavailable|busy|throttl/i;
const CONFIG_HINT =
  /unauthori[sz]ed|forbidden|invalid[ _-]?(api[ _-]?)?(key|token)|instance[ _-]?not[ _-]?found/i;

/**
 * EnoSend (a WhatsApp number linked by QR): `POST {base}/instances/{id}/messages/text` with a
 * Bearer key and `{ number, text }`, the number in E.164 without the `+`. 200 means accepted;
 * `GET {base}/messages/{id}` tells whether it left the queue.
 */
@Injectable()
export class EnoSendProvider implements WhatsAppProvider {
  readonly name = 'enosend' as const;
  private readonly logger = new Logger(EnoSendProvider.name);
  private readonly http: ProviderHttpClient;
  private readonly sendUrl: string;
  private readonly pollIntervalMs: number;

  constructor(
    @Inject(providersConfig.KEY) private readonly config: ProvidersConfig,
    @Optional() options?: EnoSendOptions,
  ) {
    this.http = new ProviderHttpClient('enosend', config.timeoutMs);
    this.sendUrl = joinUrl(
      config.enosend.baseUrl,
      `/instances/${encodeURIComponent(config.enosend.instanceId)}/messages/text`,
    );
    this.pollIntervalMs = Math.max(1, options?.pollIntervalMs ?? 250);
  }

  async send(message: OtpMessage, signal?: AbortSignal): Promise<SendResult> {
    const res = await this.http.request({
      method: 'POST',
      url: this.sendUrl,
      headers: { ...this.auth(), 'Content-Type': 'application/json' },
      data: { number: message.phone.replace(/^\+/, ''), text: renderOtpMessage(message) },
      signal,
    });
    const body = res.json;
    if (res.status === 401 || res.status === 403) throw httpError('enosend', res, 'configuration');
    if (res.status === 429) throw httpError('enosend', res, 'rate_limited');
    if (res.status >= 500) throw httpError('enosend', res, 'retryable');
    if (isRecord(body) && body.ok === false) throw this.sendFailed(res, body);
    if (res.status >= 200 && res.status < 300) {
      const id = isRecord(body) ? body.message_id : undefined;
      if (
        isRecord(body) &&
        body.ok === true &&
        (typeof id === 'string' || typeof id === 'number') &&
        `${id}` !== ''
      ) {
        return { providerMessageId: `${id}`, providerStatus: 'accepted' };
      }
      throw invalidResponse('enosend', res);
    }
    throw httpError('enosend', res);
  }

  /**
   * Polls the message status until it is `sent`, `delivered` or `failed`, or until
   * `enosend.statusPollMs` has passed; resolves with the last state seen (`queued` when nothing
   * better was seen). A failed poll is not fatal: the last state stands and polling goes on
   * (except on 401/403, where further polls cannot succeed). With `statusPollMs` 0 polling is
   * off and the accepted message counts as `sent`. Rejects only when `signal` aborts.
   */
  async awaitDelivery(providerMessageId: string, signal?: AbortSignal): Promise<ProviderDeliveryState> {
    const budgetMs = this.config.enosend.statusPollMs;
    if (budgetMs <= 0) return 'sent';
    const url = joinUrl(this.config.enosend.baseUrl, `/messages/${encodeURIComponent(providerMessageId)}`);
    const deadline = Date.now() + budgetMs;
    let state: ProviderDeliveryState = 'queued';
    for (;;) {
      const wait = Math.min(this.pollIntervalMs, deadline - Date.now());
      if (wait <= 0) return state;
      try {
        await delay(wait, undefined, { signal });
      } catch {
        throw abortedError('enosend');
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return state;
      try {
        const res = await this.http.request({
          method: 'GET',
          url,
          headers: this.auth(),
          signal,
          timeoutMs: remaining,
        });
        const seen = deliveryState(res.json);
        if (res.status >= 200 && res.status < 300 && seen) {
          state = seen;
          if (FINAL_STATES.includes(state)) return state;
        } else {
          this.logger.debug(
            { provider: this.name, status: res.status },
            'enosend status poll answered badly',
          );
          if (res.status === 401 || res.status === 403) return state;
        }
      } catch (err) {
        if (signal?.aborted) throw abortedError('enosend');
        const errorCode = err instanceof ProviderError ? err.errorCode : 'unknown';
        this.logger.debug({ provider: this.name, errorCode }, 'enosend status poll failed');
      }
    }
  }

  close(): void {
    this.http.close();
  }

  private auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.config.enosend.apiKey}` };
  }

  /** `ok: false` is a failed send: permanent, unless its code or details say otherwise. */
  private sendFailed(res: ProviderResponse, body: Record<string, unknown>): ProviderError {
    const code = errorCodeOf(body) ?? 'send_failed';
    const hints = [body.error, body.details, body.message, body.reason]
      .map((value) => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value)))
      .join(' ');
    let kind: ProviderErrorKind = 'permanent';
    if (CONFIG_HINT.test(hints)) kind = 'configuration';
    else if (RETRY_HINT.test(hints)) kind = 'retryable';
    return httpError('enosend', res, kind, code);
  }
}

/** `{ status }`, `{ message: { status } }` or `{ data: { status } }` → a known state, else undefined. */
function deliveryState(body: unknown): ProviderDeliveryState | undefined {
  if (!isRecord(body)) return undefined;
  const nested = [body, body.message, body.data].find(
    (item) => isRecord(item) && typeof item.status === 'string',
  );
  const status = isRecord(nested) ? String(nested.status).toLowerCase() : undefined;
  return status !== undefined && DELIVERY_STATES.includes(status)
    ? (status as ProviderDeliveryState)
    : undefined;
}
