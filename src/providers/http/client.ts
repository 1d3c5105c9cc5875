import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import type { ProviderName } from '../../config/index.js';
import { abortedError } from './abort.js';
import { parseJson } from './body.js';
import { toProviderError } from './errors.js';

/** Largest provider answer we read; anything bigger is garbage (and a memory risk). */
const MAX_RESPONSE_BYTES = 256 * 1024;

interface HttpClientOptions {
  /** Upper bound of every call, connect to last byte. */
  timeoutMs: number;
  /** Sockets kept per host (default 50). */
  maxSockets?: number;
}

interface HttpClient {
  readonly axios: AxiosInstance;
  /** Closes the keep-alive sockets. */
  destroy(): void;
}

/**
 * One axios instance per provider: keep-alive agents, a timeout on every call, no redirects (a
 * redirect would carry a key somewhere else), never throws on a status (each provider maps its
 * own statuses), and the body is kept as raw text so garbage can be told apart from JSON.
 */
function createHttpClient(options: HttpClientOptions): HttpClient {
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
