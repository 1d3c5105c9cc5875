import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rememberProviderRequest } from '../helpers/log-leaks.js';

/** One request as it arrived on the wire. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/api/send-otp`. */
  path: string;
  /** Path with the query string, as received. */
  url: string;
  /** Lower-cased names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** Epoch ms when the body was fully received. */
  receivedAt: number;
}

/** A literal answer: an object body is sent as JSON, a string body as it is. */
export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Misbehaviour any fake can show, whatever the provider:
 * - `hang`: read the request, never answer (the client's timeout must fire);
 * - `reset`: destroy the socket after reading the request (ECONNRESET / socket hang up);
 * - `html`: 200 with an HTML page (a captive portal, a proxy error page served as 200);
 * - `html_502`: 502 with an HTML page (a load balancer in front of the provider);
 * - `truncated`: 200, Content-Type JSON, a JSON body cut in half;
 * - `empty`: 200 with an empty body;
 * - a FakeReply: exactly that status, body and headers.
 */
export type CommonBehaviour = 'hang' | 'reset' | 'html' | 'html_502' | 'truncated' | 'empty' | FakeReply;

/**
 * A provider mode (`M`, every fake has `ok`), a common misbehaviour, or either after a delay
 * (`{ delayMs: 500 }` alone: the normal `ok` answer, 500 ms late).
 */
export type Behaviour<M extends string> =
  | M
  | CommonBehaviour
  | { delayMs: number; then?: M | CommonBehaviour };

export const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';

/**
 * Holds a default behaviour plus a queue of one-shot behaviours that are used first, one per
 * request: `behave('send_otp_failed')` answers every request that way, `queue('reset', 'ok')`
 * answers the next two requests that way, then falls back to the default.
 */
export class BehaviourSlot<M extends string> {
  private current: Behaviour<M>;
  private readonly once: Behaviour<M>[] = [];

  constructor(private readonly initial: M) {
    this.current = initial;
  }

  behave(behaviour: Behaviour<M>): void {
    this.current = behaviour;
    this.once.length = 0;
  }

  queue(...behaviours: Behaviour<M>[]): void {
    this.once.push(...behaviours);
  }

  next(): Behaviour<M> {
    return this.once.shift() ?? this.current;
  }

  reset(): void {
    this.behave(this.initial);
  }
}

/** What a provider fake's router gets for each request. */
export interface FakeExchange {
  req: RecordedRequest;
  /** Sends a FakeReply. */
  reply(reply: FakeReply): void;
  /**
   * Plays a behaviour: waits its delay, performs a common misbehaviour, or calls `mode` with the
   * provider mode and sends what it returns.
   */
  play<M extends string>(behaviour: Behaviour<M>, mode: (mode: M) => FakeReply): Promise<void>;
}

export type FakeRouter = (exchange: FakeExchange) => void | Promise<void>;

export interface FakeServer {
  /** Base URL, e.g. `http://127.0.0.1:43121` (no trailing slash). */
  readonly url: string;
  /** Every request received, in order (including hung and reset ones). */
  readonly requests: RecordedRequest[];
  /** Forgets recorded requests. */
  clearRequests(): void;
  /** Drops requests still waiting (delayed or hung): their sockets are destroyed, nothing more is answered. */
  dropPending(): void;
  /** Stops listening, drops every open connection (hung ones too) and pending delays. */
  close(): Promise<void>;
}

const COMMON = new Set(['hang', 'reset', 'html', 'html_502', 'truncated', 'empty']);

function isCommon(value: unknown): value is CommonBehaviour {
  return (
    (typeof value === 'string' && COMMON.has(value)) ||
    (typeof value === 'object' && value !== null && 'status' in value)
  );
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** Starts a node:http server on 127.0.0.1 on a free port; `router` answers each request. */
export async function startFakeServer(router: FakeRouter): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  /** Pending delays and how to end them early (false: dropped). */
  const timers = new Map<NodeJS.Timeout, (completed: boolean) => void>();
  const waiting = new Set<ServerResponse>();

  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve(true);
      }, ms);
      timers.set(timer, resolve);
    });

  const dropPending = () => {
    for (const [timer, resolve] of timers) {
      clearTimeout(timer);
      resolve(false);
    }
    timers.clear();
    for (const res of waiting) res.socket?.destroy();
    waiting.clear();
  };

  const send = (res: ServerResponse, reply: FakeReply) => {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = { ...reply.headers };
    let body = '';
    if (typeof reply.body === 'string') body = reply.body;
    else if (reply.body !== undefined) {
      body = JSON.stringify(reply.body);
      headers['content-type'] ??= 'application/json';
    }
    res.writeHead(reply.status, { 'content-length': Buffer.byteLength(body).toString(), ...headers });
    res.end(body);
  };

  const handle = async (incoming: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = incoming.url ?? '/';
    const req: RecordedRequest = {
      method: incoming.method ?? 'GET',
      path: url.split('?')[0],
      url,
      headers: incoming.headers,
      body,
      json: parseJson(body),
      receivedAt: Date.now(),
    };
    requests.push(req);
    // What the service sent a provider (its credentials, the code) must never reach its logs.
    rememberProviderRequest(req.headers, req.json);

    const play = async <M extends string>(behaviour: Behaviour<M>, mode: (mode: M) => FakeReply) => {
      let current = behaviour as M | CommonBehaviour;
      if (typeof behaviour === 'object' && 'delayMs' in behaviour) {
        waiting.add(res);
        const completed = await sleep(behaviour.delayMs);
        waiting.delete(res);
        if (!completed) return;
        // `{ delayMs }` without `then`: the provider's normal answer after the delay.
        current = behaviour.then ?? ('ok' as M);
      }
      if (!isCommon(current)) return send(res, mode(current as M));
      if (typeof current === 'object') return send(res, current);
      switch (current) {
        case 'hang':
          waiting.add(res);
          res.on('close', () => waiting.delete(res));
          return;
        case 'reset':
          res.socket?.destroy();
          return;
        case 'html':
          return send(res, { status: 200, body: HTML_PAGE, headers: { 'content-type': 'text/html' } });
        case 'html_502':
          return send(res, { status: 502, body: HTML_PAGE, headers: { 'content-type': 'text/html' } });
        case 'truncated':
          return send(res, {
            status: 200,
            body: '{"accepted":true,"ok":true,"message_id":"trunc',
            headers: { 'content-type': 'application/json' },
          });
        case 'empty':
          return send(res, { status: 200, body: '' });
      }
    };

    await router({ req, reply: (reply) => send(res, reply), play });
  };

  const server = createServer((incoming, res) => {
    handle(incoming, res).catch(() => {
      if (!res.headersSent && !res.destroyed)
        send(res, { status: 500, body: { error: 'fake_server_error' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    dropPending,
    close: async () => {
      dropPending();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads a Basic Authorization header: `{ user, password }` or undefined. */
export function basicAuth(headers: IncomingHttpHeaders): { user: string; password: string } | undefined {
  const match = /^Basic (.+)$/i.exec(headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Reads a Bearer Authorization header. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  return /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
