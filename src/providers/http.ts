import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import type { ProviderName } from '../config/index.js';
import { ProviderError, type ProviderErrorKind, type RateLimitScope } from './provider.error.js';

/** Largest provider answer we read; anything bigger is garbage (and a memory risk). */
const MAX_RESPONSE_BYTES = 256 * 1024;
/** Longest Retry-After we pass on; a provider asking for more is treated as asking for an hour. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export interface HttpClientOptions {
  /** Upper bound of every call, connect to last byte. */
  timeoutMs: number;
  /** Sockets kept per host (default 50). */
  maxSockets?: number;
}

export interface HttpClient {
  readonly axios: AxiosInstance;
  /** Closes the keep-alive sockets. */
  destroy(): void;
}

/**
 * One axios instance per provider: keep-alive agents, a timeout on every call, no redirects (a
 * redirect would carry a key somewhere else), never throws on a status (each provider maps its
 * own statuses), and the body is kept as raw text so garbage can be told apart from JSON.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 50 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const instance = axios.create({
    timeout: options.timeoutMs,
    httpAgent,
    httpsAgent,
    maxRedirects: 0,
    maxContentLength: MAX_RESPONSE_BYTES,
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    headers: { 'User-Agent': 'whatsapp-otp-service', Accept: 'application/json' },
  });
  return {
    axios: instance,
    destroy: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

export interface ProviderRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is (set its Content-Type in headers). */
  data?: unknown;
  /** The caller's signal (shutdown, engine deadline). */
  signal?: AbortSignal;
  /** Shorter deadline for this call; never longer than the client's timeoutMs. */
  timeoutMs?: number;
}

export interface ProviderResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** The raw body. Never log it: providers echo numbers and messages. */
  text: string;
  /** The parsed body when it is a JSON object or array, else undefined (HTML, truncated, empty). */
  json: unknown;
}

/**
 * A provider's HTTP client: every call is bounded by `timeoutMs` (a deadline covering the whole
 * exchange, not only socket idleness), honours the caller's AbortSignal, and turns every transport
 * failure into a ProviderError. HTTP statuses are returned, not thrown.
 */
export class ProviderHttpClient {
  private readonly client: HttpClient;

  constructor(
    readonly provider: ProviderName,
    private readonly timeoutMs: number,
  ) {
    this.client = createHttpClient({ timeoutMs });
  }

  async request(req: ProviderRequest): Promise<ProviderResponse> {
    if (req.signal?.aborted) throw abortedError(this.provider);
    const timeoutMs = Math.max(1, Math.min(req.timeoutMs ?? this.timeoutMs, this.timeoutMs));
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.client.axios.request<string>({
        method: req.method,
        url: req.url,
        headers: req.headers,
        data: req.data,
        timeout: timeoutMs,
        signal: controller.signal,
      });
      const text = typeof res.data === 'string' ? res.data : '';
      const headers: Record<string, string | undefined> = {};
      for (const [key, value] of Object.entries(res.headers ?? {})) {
        headers[key.toLowerCase()] = Array.isArray(value)
          ? value.join(', ')
          : value == null
            ? undefined
            : `${value}`;
      }
      return { status: res.status, headers, text, json: parseJson(text) };
    } catch (err) {
      throw toProviderError(this.provider, err, {
        timedOut,
        aborted: !timedOut && req.signal?.aborted === true,
      });
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Releases the keep-alive sockets (application shutdown, end of a test). */
  close(): void {
    this.client.destroy();
  }
}

/** The parsed body if it is a complete JSON object or array; undefined for anything else. */
export function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SAFE_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Seven digits or more in a row may be a phone number (provider codes have at most six). */
const PHONE_LIKE = /\d{7,}/;

/**
 * A provider's machine error code, if it is one: short, of safe characters, with no run of digits
 * long enough to be a phone number. Free text (which may echo a number or a message) is never used
 * as an error code, so it never reaches logs, the database or `GET /v1/otp/:id`.
 */
export function safeCode(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) value = String(value);
  return typeof value === 'string' && SAFE_CODE.test(value) && !PHONE_LIKE.test(value) ? value : undefined;
}

/** The error code of the usual shapes: `{ error: "x" }`, `{ error: { code | status: "x" } }`, `{ code: "x" }`. */
export function errorCodeOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const error = body.error;
  if (typeof error === 'string') return safeCode(error);
  if (isRecord(error)) return safeCode(error.status) ?? safeCode(error.code);
  return safeCode(body.code) ?? safeCode(body.errorCode) ?? safeCode(body.error_code);
}

/** Retry-After as milliseconds from now (seconds or an HTTP date), capped at one hour. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.round(Number(text) * 1000);
  else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/**
 * The default reading of a status with no better information: 401/403 and redirects are
 * configuration, 429 a rate limit (of the provider, for every code), 408/425 and 5xx retryable,
 * other 4xx permanent.
 */
export function kindOfStatus(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return 'configuration';
  if (status === 429) return 'rate_limited';
  if (status === 408 || status === 425 || status >= 500) return 'retryable';
  if (status >= 300 && status < 400) return 'configuration';
  return 'permanent';
}

/**
 * A ProviderError for an HTTP answer: the body's error code when it has one, else `http_<status>`,
 * with the answer's Retry-After (seconds or an HTTP date). A `rate_limited` error is the
 * provider's own limit unless `scope` says it is this recipient's.
 */
export function httpError(
  provider: ProviderName,
  res: ProviderResponse,
  kind: ProviderErrorKind = kindOfStatus(res.status),
  errorCode: string = errorCodeOf(res.json) ?? `http_${res.status}`,
  scope?: RateLimitScope,
): ProviderError {
  return new ProviderError(
    provider,
    kind,
    errorCode,
    `${provider} answered HTTP ${res.status} (${errorCode})`,
    {
      httpStatus: res.status,
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
      ...(kind === 'rate_limited' ? { scope: scope ?? 'provider' } : {}),
    },
  );
}

/** A 2xx whose body is not what the provider promises (HTML, truncated JSON, missing id): retry. */
export function invalidResponse(provider: ProviderName, res: ProviderResponse): ProviderError {
  return new ProviderError(
    provider,
    'retryable',
    'invalid_response',
    `${provider} answered HTTP ${res.status} with an unexpected body`,
    { httpStatus: res.status },
  );
}

export function abortedError(provider: ProviderName): ProviderError {
  return new ProviderError(provider, 'retryable', 'aborted', `${provider} call aborted by the caller`);
}

const NETWORK_CODES: Record<string, string> = {
  ECONNABORTED: 'timeout',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  ECONNREFUSED: 'connection_refused',
  EHOSTUNREACH: 'network_unreachable',
  ENETUNREACH: 'network_unreachable',
  ENOTFOUND: 'dns_error',
  EAI_AGAIN: 'dns_error',
};

/**
 * Turns an axios/network error into a ProviderError without keeping the original: an axios error
 * carries the request config (keys, Authorization, the message), so nothing of it may travel on.
 */
export function toProviderError(
  provider: ProviderName,
  err: unknown,
  context: { timedOut?: boolean; aborted?: boolean } = {},
): ProviderError {
  if (err instanceof ProviderError) return err;
  if (context.aborted) return abortedError(provider);
  const make = (kind: ProviderErrorKind, code: string) =>
    new ProviderError(provider, kind, code, `${provider} request failed (${code})`);
  if (context.timedOut) return make('retryable', 'timeout');
  const code = isAxiosError(err) ? err.code : (err as { code?: unknown } | null)?.code;
  const text = err instanceof Error ? err.message : '';
  const causeCode = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  for (const candidate of [code, causeCode]) {
    if (typeof candidate === 'string' && NETWORK_CODES[candidate])
      return make('retryable', NETWORK_CODES[candidate]);
  }
  if (/socket hang up|stream has been aborted/i.test(text)) return make('retryable', 'connection_reset');
  if (/timeout/i.test(text)) return make('retryable', 'timeout');
  if (/maxContentLength/i.test(text) || (typeof code === 'string' && code.startsWith('HPE_'))) {
    return make('retryable', 'invalid_response');
  }
  if (code === 'ERR_INVALID_URL' || code === 'ERR_BAD_OPTION_VALUE' || code === 'ERR_BAD_OPTION') {
    return make('configuration', 'invalid_url');
  }
  return make('retryable', 'network_error');
}

/** Waits for `promise` unless `signal` aborts first (the promise itself goes on for other callers). */
export function abortable<T>(provider: ProviderName, promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedError(provider));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(provider));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Joins a base URL and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
