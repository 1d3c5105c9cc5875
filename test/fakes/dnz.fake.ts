import {
  type Behaviour,
  BehaviourSlot,
  type FakeReply,
  type FakeServer,
  isRecord,
  startFakeServer,
} from './fake-server.js';

/**
 * DNZ answers: `ok` behaves like the real engine (checks the key, the fields and the number, then
 * 202 `{ accepted, jobId }`); the others force one documented answer.
 */
export type DnzMode =
  | 'ok'
  | 'missing_fields' // 400
  | 'invalid_number' // 400
  | 'invalid_api_key' // 401
  | 'rate_limited' // 429 with Retry-After
  | 'send_otp_failed' // 500
  | 'unavailable' // 503, JSON
  | 'error_body_200'; // 200 { accepted: false, error: "send_otp_failed" }

export interface DnzFakeOptions {
  /** The key the fake accepts (default `dnz-test-key`). */
  apiKey?: string;
  /** Retry-After of `rate_limited`, in seconds (default 30). */
  retryAfterSeconds?: number;
}

export interface DnzFake extends FakeServer {
  readonly apiKey: string;
  /** Job ids accepted so far, in order (`dnz-job-1`, …). */
  readonly jobIds: string[];
  /** Answers every following request this way. */
  behave(behaviour: Behaviour<DnzMode>): void;
  /** Answers the next requests this way, one each, before the `behave` default. */
  queue(...behaviours: Behaviour<DnzMode>[]): void;
  /** Back to `ok`, no recorded requests. */
  reset(): void;
}

export const DNZ_SEND_PATH = '/api/send-otp';

const error = (
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): FakeReply => ({
  status,
  body: { error: code, message },
  headers,
});

/** A local DNZ WhatsApp OTP engine: `POST /api/send-otp`. */
export async function startDnzFake(options: DnzFakeOptions = {}): Promise<DnzFake> {
  const apiKey = options.apiKey ?? 'dnz-test-key';
  const retryAfter = String(options.retryAfterSeconds ?? 30);
  const slot = new BehaviourSlot<DnzMode>('ok');
  const jobIds: string[] = [];

  const answer = (mode: DnzMode, json: unknown): FakeReply => {
    switch (mode) {
      case 'missing_fields':
        return error(400, 'missing_fields', 'apiKey, number and message are required');
      case 'invalid_number':
        return error(400, 'invalid_number', 'The number is not a valid WhatsApp number');
      case 'invalid_api_key':
        return error(401, 'invalid_api_key', 'Invalid API key');
      case 'rate_limited':
        return error(429, 'rate_limited', 'Too many requests', { 'retry-after': retryAfter });
      case 'send_otp_failed':
        return error(500, 'send_otp_failed', 'Could not send the OTP');
      case 'unavailable':
        return error(503, 'unavailable', 'Service unavailable');
      case 'error_body_200':
        return { status: 200, body: { accepted: false, error: 'send_otp_failed' } };
      case 'ok': {
        const body = isRecord(json) ? json : {};
        const fields = ['apiKey', 'number', 'message'];
        if (!fields.every((field) => typeof body[field] === 'string' && body[field] !== '')) {
          return answer('missing_fields', json);
        }
        if (body.apiKey !== apiKey) return answer('invalid_api_key', json);
        if (!/^\+[1-9]\d{6,14}$/.test(body.number as string)) return answer('invalid_number', json);
        const jobId = `dnz-job-${jobIds.length + 1}`;
        jobIds.push(jobId);
        return { status: 202, body: { accepted: true, jobId } };
      }
    }
  };

  const server = await startFakeServer(async ({ req, reply, play }) => {
    if (req.method !== 'POST' || req.path !== DNZ_SEND_PATH) {
      return reply({ status: 404, body: { error: 'not_found', message: 'Not found' } });
    }
    await play(slot.next(), (mode) => answer(mode, req.json));
  });

  return Object.assign(server, {
    apiKey,
    jobIds,
    behave: (behaviour: Behaviour<DnzMode>) => slot.behave(behaviour),
    queue: (...behaviours: Behaviour<DnzMode>[]) => slot.queue(...behaviours),
    reset: () => {
      slot.reset();
      server.dropPending();
      server.clearRequests();
      jobIds.length = 0;
    },
  });
}
