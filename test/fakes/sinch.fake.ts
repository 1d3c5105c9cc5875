import { randomBytes } from 'node:crypto';
import {
  basicAuth,
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
 * Sinch send answers: `ok` behaves like the real API (checks the Bearer token, the project and the
 * message shape, then `{ message_id, accepted_time }`); the others force one answer.
 */
export type SinchMode =
  | 'ok'
  | 'invalid_argument' // 400 INVALID_ARGUMENT
  | 'unauthorized' // 401 UNAUTHENTICATED
  | 'forbidden' // 403 PERMISSION_DENIED
  | 'rate_limited' // 429 RESOURCE_EXHAUSTED with Retry-After
  | 'internal' // 500 INTERNAL
  | 'unavailable' // 503 UNAVAILABLE
  | 'error_body_200'; // 200 { error: { code: 400, status: "INVALID_ARGUMENT" } }

/** Token endpoint answers: `ok` checks Basic auth and the form body, then issues a token. */
export type SinchTokenMode = 'ok' | 'invalid_client' | 'server_error';

export interface SinchFakeOptions {
  projectId?: string;
  appId?: string;
  keyId?: string;
  keySecret?: string;
  templateId?: string;
  /** Lifetime of issued tokens, seconds (default 3600). Enforced by the fake as well. */
  expiresIn?: number;
  /** Retry-After of `rate_limited`, seconds (default 10). */
  retryAfterSeconds?: number;
}

export interface SinchFake extends FakeServer {
  readonly projectId: string;
  readonly appId: string;
  readonly keyId: string;
  readonly keySecret: string;
  readonly templateId: string;
  /** `{url}/oauth2/token`, for `sinch.authUrl`. */
  readonly authUrl: string;
  /** `/v1/projects/{projectId}/messages:send` */
  readonly sendPath: string;
  /** Tokens issued so far, in order. */
  readonly tokens: string[];
  /** Message ids accepted so far (`sinch-msg-1`, …). */
  readonly messageIds: string[];
  /** Requests that reached the token endpoint. */
  readonly tokenRequests: number;
  behave(behaviour: Behaviour<SinchMode>): void;
  queue(...behaviours: Behaviour<SinchMode>[]): void;
  behaveToken(behaviour: Behaviour<SinchTokenMode>): void;
  queueToken(...behaviours: Behaviour<SinchTokenMode>[]): void;
  /** expires_in of the next tokens, seconds. */
  setExpiresIn(seconds: number): void;
  /** Every issued token becomes invalid (sends with it get 401). */
  revokeTokens(): void;
  sendRequests(): RecordedRequest[];
  /** Back to `ok` for both endpoints, tokens revoked, no recorded requests. */
  reset(): void;
}

export const SINCH_TOKEN_PATH = '/oauth2/token';

const sinchError = (
  code: number,
  status: string,
  message: string,
  headers?: Record<string, string>,
): FakeReply => ({
  status: code,
  body: { error: { code, message, status, details: [] } },
  headers,
});

/** A local Sinch: the OAuth2 token endpoint and the Conversation API `messages:send`. */
export async function startSinchFake(options: SinchFakeOptions = {}): Promise<SinchFake> {
  const projectId = options.projectId ?? 'project-test';
  const appId = options.appId ?? 'app-test';
  const keyId = options.keyId ?? 'key-id-test';
  const keySecret = options.keySecret ?? 'key-secret-test';
  const templateId = options.templateId ?? 'otp_code';
  const retryAfter = String(options.retryAfterSeconds ?? 10);
  let expiresIn = options.expiresIn ?? 3600;
  const sendPath = `/v1/projects/${encodeURIComponent(projectId)}/messages:send`;
  const slot = new BehaviourSlot<SinchMode>('ok');
  const tokenSlot = new BehaviourSlot<SinchTokenMode>('ok');
  const tokens: string[] = [];
  const live = new Map<string, number>(); // token → expiry (epoch ms)
  const messageIds: string[] = [];

  const tokenAnswer = (mode: SinchTokenMode, req: RecordedRequest): FakeReply => {
    switch (mode) {
      case 'invalid_client':
        return {
          status: 401,
          body: { error: 'invalid_client', error_description: 'Bad client credentials' },
        };
      case 'server_error':
        return { status: 500, body: { error: 'server_error' } };
      case 'ok': {
        const auth = basicAuth(req.headers);
        if (!auth || auth.user !== keyId || auth.password !== keySecret)
          return tokenAnswer('invalid_client', req);
        const form = new URLSearchParams(req.body);
        const formType = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
        if (!formType || form.get('grant_type') !== 'client_credentials') {
          return { status: 400, body: { error: 'unsupported_grant_type' } };
        }
        const token = `tok-${tokens.length + 1}-${randomBytes(6).toString('hex')}`;
        tokens.push(token);
        live.set(token, Date.now() + expiresIn * 1000);
        return {
          status: 200,
          body: { access_token: token, expires_in: expiresIn, token_type: 'bearer', scope: '' },
        };
      }
    }
  };

  const sendAnswer = (mode: SinchMode, req: RecordedRequest): FakeReply => {
    switch (mode) {
      case 'invalid_argument':
        return sinchError(400, 'INVALID_ARGUMENT', 'Invalid argument');
      case 'unauthorized':
        return sinchError(401, 'UNAUTHENTICATED', 'Unauthorized');
      case 'forbidden':
        return sinchError(403, 'PERMISSION_DENIED', 'Permission denied');
      case 'rate_limited':
        return sinchError(429, 'RESOURCE_EXHAUSTED', 'Too many requests', { 'retry-after': retryAfter });
      case 'internal':
        return sinchError(500, 'INTERNAL', 'Internal error');
      case 'unavailable':
        return sinchError(503, 'UNAVAILABLE', 'Service unavailable');
      case 'error_body_200':
        return {
          status: 200,
          body: { error: { code: 400, message: 'Invalid argument', status: 'INVALID_ARGUMENT' } },
        };
      case 'ok': {
        const token = bearerToken(req.headers);
        const expiry = token === undefined ? undefined : live.get(token);
        if (expiry === undefined || expiry <= Date.now()) return sendAnswer('unauthorized', req);
        if (!validSend(req.json, appId)) return sendAnswer('invalid_argument', req);
        const id = `sinch-msg-${messageIds.length + 1}`;
        messageIds.push(id);
        return { status: 200, body: { message_id: id, accepted_time: new Date().toISOString() } };
      }
    }
  };

  const server = await startFakeServer(async ({ req, reply, play }) => {
    if (req.method === 'POST' && req.path === SINCH_TOKEN_PATH) {
      return play(tokenSlot.next(), (mode) => tokenAnswer(mode, req));
    }
    if (req.method === 'POST' && req.path === sendPath) {
      return play(slot.next(), (mode) => sendAnswer(mode, req));
    }
    return reply(sinchError(404, 'NOT_FOUND', 'Not found'));
  });

  const fake = Object.assign(server, {
    projectId,
    appId,
    keyId,
    keySecret,
    templateId,
    authUrl: `${server.url}${SINCH_TOKEN_PATH}`,
    sendPath,
    tokens,
    messageIds,
    behave: (behaviour: Behaviour<SinchMode>) => slot.behave(behaviour),
    queue: (...behaviours: Behaviour<SinchMode>[]) => slot.queue(...behaviours),
    behaveToken: (behaviour: Behaviour<SinchTokenMode>) => tokenSlot.behave(behaviour),
    queueToken: (...behaviours: Behaviour<SinchTokenMode>[]) => tokenSlot.queue(...behaviours),
    setExpiresIn: (seconds: number) => {
      expiresIn = seconds;
    },
    revokeTokens: () => live.clear(),
    sendRequests: () => server.requests.filter((r) => r.path === sendPath),
    reset: () => {
      slot.reset();
      tokenSlot.reset();
      live.clear();
      server.dropPending();
      server.clearRequests();
      messageIds.length = 0;
      tokens.length = 0;
    },
  });
  Object.defineProperty(fake, 'tokenRequests', {
    get: () => server.requests.filter((r) => r.path === SINCH_TOKEN_PATH).length,
    enumerable: true,
  });
  return fake as SinchFake;
}

/** The shape PROVIDERS.md documents: app, one WhatsApp identity with `+`, a template or a text. */
function validSend(json: unknown, appId: string): boolean {
  if (!isRecord(json) || json.app_id !== appId) return false;
  const recipient = isRecord(json.recipient) ? json.recipient.identified_by : undefined;
  const identities = isRecord(recipient) ? recipient.channel_identities : undefined;
  if (!Array.isArray(identities) || identities.length !== 1) return false;
  const [identity] = identities as unknown[];
  if (!isRecord(identity) || identity.channel !== 'WHATSAPP') return false;
  if (typeof identity.identity !== 'string' || !/^\+[1-9]\d{6,14}$/.test(identity.identity)) return false;
  const message = json.message;
  if (!isRecord(message)) return false;
  const template = isRecord(message.template_message) ? message.template_message.channel_template : undefined;
  const text = isRecord(message.text_message) ? message.text_message.text : undefined;
  if (!(isRecord(template) && isRecord(template.WHATSAPP)) && !(typeof text === 'string' && text !== ''))
    return false;
  return Array.isArray(json.channel_priority_order) && json.channel_priority_order[0] === 'WHATSAPP';
}
