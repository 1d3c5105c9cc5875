import {
  type Behaviour,
  BehaviourSlot,
  bearerToken,
  type FakeReply,
  type FakeServer,
  isRecord,
  type RecordedRequest,
  startFakeServer,
} from './fake-server.js';

/**
 * EnoSend send answers: `ok` behaves like the real API (checks the Bearer key, the instance and a
 * `+`-less number, then `{ ok: true, message_id }`); the others force one answer.
 */
export type EnoSendMode =
  | 'ok'
  | 'send_failed' // 200 { ok: false, error: "send_failed", details: not on WhatsApp }
  | 'instance_disconnected' // 200 { ok: false, error: "instance_disconnected" }
  | 'invalid_number' // 400 { ok: false, error: "invalid_number" }
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'rate_limited' // 429 with Retry-After
  | 'server_error'; // 500

/** What `GET /messages/:id` answers: a status word (`ok` = `delivered`), or any misbehaviour. */
export type EnoSendStatus = 'ok' | 'queued' | 'sent' | 'delivered' | 'failed';

export interface EnoSendFakeOptions {
  /** Default `wa_live_test_key`. */
  apiKey?: string;
  /** Default `inst-test`. */
  instanceId?: string;
  /** Retry-After of `rate_limited`, in seconds (default 20). */
  retryAfterSeconds?: number;
}

export interface EnoSendFake extends FakeServer {
  readonly apiKey: string;
  readonly instanceId: string;
  /** Message ids accepted so far (`eno-msg-1`, …). */
  readonly messageIds: string[];
  /** Send endpoint: answer every following send this way. */
  behave(behaviour: Behaviour<EnoSendMode>): void;
  /** Send endpoint: answer the next sends this way, one each. */
  queue(...behaviours: Behaviour<EnoSendMode>[]): void;
  /**
   * Status endpoint: the answers to successive polls (of any message), the last one repeating.
   * Default: `delivered`. E.g. `statuses('queued', 'reset', 'sent')`.
   */
  statuses(...steps: Behaviour<EnoSendStatus>[]): void;
  /** Requests to the send endpoint. */
  sendRequests(): RecordedRequest[];
  /** Requests to the status endpoint. */
  statusRequests(): RecordedRequest[];
  /** Back to `ok` / `delivered`, no recorded requests. */
  reset(): void;
}

const fail = (
  status: number,
  code: string,
  details: string,
  headers?: Record<string, string>,
): FakeReply => ({
  status,
  body: { ok: false, error: code, details },
  headers,
});

/** A local EnoSend API: `POST /instances/:id/messages/text` and `GET /messages/:id`. */
export async function startEnoSendFake(options: EnoSendFakeOptions = {}): Promise<EnoSendFake> {
  const apiKey = options.apiKey ?? 'wa_live_test_key';
  const instanceId = options.instanceId ?? 'inst-test';
  const retryAfter = String(options.retryAfterSeconds ?? 20);
  const slot = new BehaviourSlot<EnoSendMode>('ok');
  const messageIds: string[] = [];
  let steps: Behaviour<EnoSendStatus>[] = ['delivered'];
  let polls = 0;
  const sendPath = `/instances/${encodeURIComponent(instanceId)}/messages/text`;

  const answer = (mode: EnoSendMode, req: RecordedRequest): FakeReply => {
    switch (mode) {
      case 'send_failed':
        return fail(200, 'send_failed', 'the number is not on WhatsApp');
      case 'instance_disconnected':
        return fail(200, 'instance_disconnected', 'the linked phone is offline');
      case 'invalid_number':
        return fail(400, 'invalid_number', 'number must be digits only, country code first');
      case 'unauthorized':
        return fail(401, 'unauthorized', 'invalid API key');
      case 'forbidden':
        return fail(403, 'forbidden', 'this key cannot use this instance');
      case 'rate_limited':
        return fail(429, 'rate_limited', 'too many requests', { 'retry-after': retryAfter });
      case 'server_error':
        return fail(500, 'internal_error', 'internal error');
      case 'ok': {
        if (bearerToken(req.headers) !== apiKey) return answer('unauthorized', req);
        const body = isRecord(req.json) ? req.json : {};
        if (typeof body.text !== 'string' || body.text === '')
          return fail(400, 'missing_text', 'text is required');
        if (typeof body.number !== 'string' || !/^[1-9]\d{6,14}$/.test(body.number)) {
          return answer('invalid_number', req);
        }
        const id = `eno-msg-${messageIds.length + 1}`;
        messageIds.push(id);
        return { status: 200, body: { ok: true, message_id: id } };
      }
    }
  };

  const server = await startFakeServer(async ({ req, reply, play }) => {
    if (req.method === 'POST' && req.path === sendPath) {
      return play(slot.next(), (mode) => answer(mode, req));
    }
    const status = /^\/messages\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && status) {
      if (bearerToken(req.headers) !== apiKey) return reply(answer('unauthorized', req));
      const step = steps[Math.min(polls, steps.length - 1)];
      polls += 1;
      const id = decodeURIComponent(status[1]);
      return play(step, (word) => ({
        status: 200,
        body: { ok: true, id, status: word === 'ok' ? 'delivered' : word },
      }));
    }
    if (req.method === 'POST' && /^\/instances\/[^/]+\/messages\/text$/.test(req.path)) {
      return reply(fail(404, 'instance_not_found', 'no such instance'));
    }
    return reply({ status: 404, body: { ok: false, error: 'not_found' } });
  });

  return Object.assign(server, {
    apiKey,
    instanceId,
    messageIds,
    behave: (behaviour: Behaviour<EnoSendMode>) => slot.behave(behaviour),
    queue: (...behaviours: Behaviour<EnoSendMode>[]) => slot.queue(...behaviours),
    statuses: (...next: Behaviour<EnoSendStatus>[]) => {
      steps = next.length > 0 ? next : ['delivered'];
      polls = 0;
    },
    sendRequests: () => server.requests.filter((r) => r.method === 'POST'),
    statusRequests: () => server.requests.filter((r) => r.method === 'GET'),
    reset: () => {
      slot.reset();
      steps = ['delivered'];
      polls = 0;
      server.dropPending();
      server.clearRequests();
      messageIds.length = 0;
    },
  });
}
