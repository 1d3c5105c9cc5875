import type { ProviderName } from '../config/index.js';

/** What a provider needs to deliver one code. Never logged: it holds the code and the full number. */
export interface OtpMessage {
  /** Our verification id (OneTimeCode.id); Sinch carries it back as message_metadata. */
  codeId: string;
  /**
   * This attempt's id (delivery_attempts.id): the client reference of providers that accept one
   * (Sinch's message_metadata carries `codeId:attemptId` back in its reports, so a report can
   * settle an attempt left in doubt by a crash). Never reused: a retry is a new attempt.
   */
  attemptId?: string;
  /** E.164 with the leading +. */
  phone: string;
  code: string;
  /** Lifetime stated in the message, in whole minutes. */
  ttlMinutes: number;
  locale?: string;
  /** True when the contact wrote to us in the last 24 h (Sinch may then send free text). */
  withinSessionWindow?: boolean;
}

export interface SendResult {
  providerMessageId: string;
  /** The provider's own state word, kept on the attempt record (e.g. "accepted", "queued"). */
  providerStatus?: string;
}

/** Delivery state a provider reports when asked (EnoSend polling). */
export type ProviderDeliveryState = 'queued' | 'sent' | 'delivered' | 'failed';

/** One WhatsApp provider. Implementations map their own errors onto ProviderError kinds. */
export interface WhatsAppProvider {
  readonly name: ProviderName;
  /**
   * Hands the message to the provider. Resolves once accepted; rejects with ProviderError (every
   * HTTP call is bounded by PROVIDER_TIMEOUT_MS; an aborted `signal` rejects with a retryable
   * ProviderError whose errorCode is `aborted`).
   */
  send(message: OtpMessage, signal?: AbortSignal): Promise<SendResult>;
  /**
   * Optional: wait (bounded) until the provider confirms the message left its queue. Resolves with
   * the last state seen; `queued` or `failed` means the engine should fall back to the next provider.
   */
  awaitDelivery?(providerMessageId: string, signal?: AbortSignal): Promise<ProviderDeliveryState>;
  /** Optional: release sockets and timers (called once at application shutdown). */
  close?(): void;
}

/** DI token: the providers of OTP_PROVIDERS, in chain order. */
export const WHATSAPP_PROVIDERS = Symbol('WHATSAPP_PROVIDERS');
