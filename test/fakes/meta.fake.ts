import { createHmac } from 'node:crypto';
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
 * WhatsApp Cloud API answers. `ok` behaves like Graph API: checks the version and phone number id
 * in the path, the Bearer token, and the template message shape (an AUTHENTICATION template: body
 * parameter and url button at index "0" both the code, `to` without `+`), then 200 with a `wamid`.
 * The other modes force one documented error (PROVIDERS.md, "WhatsApp Cloud API (Meta)"); Meta
 * answers most of them with HTTP 400, whatever the class, which is the point.
 */
export type MetaMode =
  | 'ok'
  | 'throughput_limit' // 400, code 130429
  | 'pair_rate_limit' // 400, code 131056
  | 'something_went_wrong' // 500, code 131000
  | 'token_expired' // 401, code 190 (OAuthException)
  | 'permission_denied' // 403, code 10
  | 'template_missing' // 404, code 132001 (template name does not exist in the language)
  | 'template_params' // 400, code 132000 (parameter count mismatch)
  | 'template_paused' // 400, code 132015
  | 'account_locked' // 400, code 131031
  | 'undeliverable' // 400, code 131026 (not on WhatsApp / cannot receive)
  | 'invalid_parameter' // 400, code 100
  | 'unknown_code'; // 400, code 999999 (a code this service does not know)

export interface MetaFakeOptions {
  version?: string;
  phoneNumberId?: string;
  accessToken?: string;
  templateName?: string;
  templateLanguage?: string;
  /** The app secret the fake signs its callbacks with (`signedCallback`). */
  appSecret?: string;
}

/** An accepted message: the wamid, the number (digits, no `+`) and the code it carried. */
export interface MetaSentMessage {
  id: string;
  to: string;
  code: string;
}

export interface MetaFake extends FakeServer {
  readonly version: string;
  readonly phoneNumberId: string;
  readonly accessToken: string;
  readonly templateName: string;
  readonly templateLanguage: string;
  readonly appSecret: string;
  /** `/{version}/{phoneNumberId}/messages` */
  readonly sendPath: string;
  /** Messages accepted so far, in order. */
  readonly sent: MetaSentMessage[];
  behave(behaviour: Behaviour<MetaMode>): void;
  queue(...behaviours: Behaviour<MetaMode>[]): void;
  sendRequests(): RecordedRequest[];
  /** Back to `ok`, no recorded requests, no sent messages. */
  reset(): void;
}

const ERRORS: Record<Exclude<MetaMode, 'ok'>, [number, number, string, string]> = {
  throughput_limit: [400, 130429, 'Rate limit hit', 'OAuthException'],
  pair_rate_limit: [
    400,
    131056,
    '(Business Account, Consumer Account) pair rate limit hit',
    'OAuthException',
  ],
  something_went_wrong: [500, 131000, 'Something went wrong', 'OAuthException'],
  token_expired: [401, 190, 'Error validating access token: Session has expired', 'OAuthException'],
  permission_denied: [403, 10, 'Application does not have permission for this action', 'OAuthException'],
  template_missing: [404, 132001, 'Template name does not exist in the translation', 'OAuthException'],
  template_params: [
    400,
    132000,
    'Number of parameters does not match the expected number of params',
    'OAuthException',
  ],
  template_paused: [400, 132015, 'Template is paused', 'OAuthException'],
  account_locked: [400, 131031, 'Business Account locked', 'OAuthException'],
  undeliverable: [400, 131026, 'Message undeliverable', 'OAuthException'],
  invalid_parameter: [400, 100, 'Invalid parameter', 'OAuthException'],
  unknown_code: [400, 999999, 'Something new', 'OAuthException'],
};

/** A Graph API error answer. */
export function metaError(mode: Exclude<MetaMode, 'ok'>): FakeReply {
  const [status, code, message, type] = ERRORS[mode];
  return {
    status,
    body: { error: { message, type, code, error_subcode: 2494010, fbtrace_id: 'AbCdEfGhIjK' } },
  };
}

/** A local WhatsApp Cloud API: `POST /{version}/{phoneNumberId}/messages`. */
export async function startMetaFake(options: MetaFakeOptions = {}): Promise<MetaFake> {
  const version = options.version ?? 'v23.0';
  const phoneNumberId = options.phoneNumberId ?? '106540352242922';
  const accessToken = options.accessToken ?? 'EAAGm0PX4ZCpsBAtestSystemUserToken0123456789';
  const templateName = options.templateName ?? 'otp_login';
  const templateLanguage = options.templateLanguage ?? 'en_US';
  const appSecret = options.appSecret ?? 'meta-app-secret-0123456789';
  const sendPath = `/${version}/${phoneNumberId}/messages`;
  const slot = new BehaviourSlot<MetaMode>('ok');
  const sent: MetaSentMessage[] = [];

  const answer = (mode: MetaMode, req: RecordedRequest): FakeReply => {
    if (mode !== 'ok') return metaError(mode);
    if (bearerToken(req.headers) !== accessToken) return metaError('token_expired');
    const checked = checkTemplateMessage(req.json, templateName, templateLanguage);
    if ('error' in checked) return metaError(checked.error);
    const id = `wamid.HBgM${Buffer.from(`${checked.to}:${sent.length + 1}:${Date.now()}`).toString('base64url')}`;
    sent.push({ id, to: checked.to, code: checked.code });
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: checked.to, wa_id: checked.to }],
        messages: [{ id, message_status: 'accepted' }],
      },
    };
  };

  const server = await startFakeServer(async ({ req, reply, play }) => {
    if (req.method === 'POST' && req.path === sendPath) {
      return play(slot.next(), (mode) => answer(mode, req));
    }
    return reply({
      status: 400,
      body: {
        error: {
          message: 'Unsupported post request.',
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
          fbtrace_id: 'AbCdEfGhIjK',
        },
      },
    });
  });

  return Object.assign(server, {
    version,
    phoneNumberId,
    accessToken,
    templateName,
    templateLanguage,
    appSecret,
    sendPath,
    sent,
    behave: (behaviour: Behaviour<MetaMode>) => slot.behave(behaviour),
    queue: (...behaviours: Behaviour<MetaMode>[]) => slot.queue(...behaviours),
    sendRequests: () => server.requests.filter((r) => r.path === sendPath),
    reset: () => {
      slot.reset();
      server.dropPending();
      server.clearRequests();
      sent.length = 0;
    },
  });
}

/**
 * What Graph API checks of an authentication template message: whatsapp, individual, `to` as
 * digits without `+`, the template by name and language, exactly a body component with one text
 * parameter and a url button at index "0" with one text parameter, both the same code.
 */
function checkTemplateMessage(
  json: unknown,
  templateName: string,
  templateLanguage: string,
): { to: string; code: string } | { error: 'invalid_parameter' | 'template_missing' | 'template_params' } {
  if (!isRecord(json) || json.messaging_product !== 'whatsapp' || json.type !== 'template') {
    return { error: 'invalid_parameter' };
  }
  if (json.recipient_type !== undefined && json.recipient_type !== 'individual')
    return { error: 'invalid_parameter' };
  if (typeof json.to !== 'string' || !/^[1-9]\d{6,14}$/.test(json.to)) return { error: 'invalid_parameter' };
  const template = json.template;
  if (!isRecord(template) || !isRecord(template.language)) return { error: 'invalid_parameter' };
  if (template.name !== templateName || template.language.code !== templateLanguage) {
    return { error: 'template_missing' };
  }
  const components = template.components;
  if (!Array.isArray(components) || components.length !== 2) return { error: 'template_params' };
  const [body, button] = components as unknown[];
  const single = (c: unknown): string | undefined => {
    if (!isRecord(c) || !Array.isArray(c.parameters) || c.parameters.length !== 1) return undefined;
    const [p] = c.parameters as unknown[];
    return isRecord(p) && p.type === 'text' && typeof p.text === 'string' ? p.text : undefined;
  };
  if (!isRecord(body) || body.type !== 'body') return { error: 'template_params' };
  if (!isRecord(button) || button.type !== 'button' || button.sub_type !== 'url' || button.index !== '0') {
    return { error: 'template_params' };
  }
  const code = single(body);
  // Authentication templates: the code is at most 15 characters, and the button carries the same.
  if (!code || code.length > 15 || single(button) !== code) return { error: 'template_params' };
  return { to: json.to, code };
}

/** Meta's callback signature: `sha256=` + lowercase hex HMAC-SHA256 of the raw body under the app secret. */
export function metaSignature(appSecret: string, raw: string | Buffer): string {
  return `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
}

/** A `statuses` entry as Meta sends it. */
export function metaStatus(
  id: string,
  status: 'sent' | 'delivered' | 'read' | 'failed' | string,
  recipientId: string,
  options: { errorCode?: number; timestamp?: number } = {},
): Record<string, unknown> {
  return {
    id,
    status,
    timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    recipient_id: recipientId,
    ...(status === 'sent' || status === 'delivered'
      ? {
          conversation: { id: 'conv-1', origin: { type: 'authentication' } },
          pricing: { billable: true, pricing_model: 'PMP', category: 'authentication' },
        }
      : {}),
    ...(options.errorCode !== undefined
      ? {
          errors: [
            {
              code: options.errorCode,
              title: 'Message undeliverable.',
              message: 'Message undeliverable.',
              error_data: { details: 'Message Undeliverable.' },
            },
          ],
        }
      : {}),
  };
}

/** An inbound text message from `from` (digits, no `+`). */
export function metaInbound(
  from: string,
  text: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, unknown> {
  return {
    from,
    id: `wamid.IN${Buffer.from(`${from}:${timestamp}:${text}`).toString('base64url')}`,
    timestamp: String(timestamp),
    type: 'text',
    text: { body: text },
  };
}

/** A webhook body: one entry per `changes` group, each group one change for `phoneNumberId`. */
export function metaCallback(
  phoneNumberId: string,
  changes: {
    statuses?: Record<string, unknown>[];
    messages?: Record<string, unknown>[];
    contacts?: unknown[];
  }[],
): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: changes.map((value) => ({
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
            ...value,
          },
        })),
      },
    ],
  };
}
