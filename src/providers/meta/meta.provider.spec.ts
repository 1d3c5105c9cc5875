import { type MetaFake, type MetaMode, startMetaFake } from '../../../test/fakes/meta.fake.js';
import { providersConfigFor } from '../../../test/fakes/providers-config.js';
import { captureNestLogs, failureShape, providerFailure } from '../../../test/fakes/spec-helpers.js';
import type { RateLimitScope } from '../provider.error.js';
import type { OtpMessage } from '../provider.interface.js';
import { classifyMetaError } from './meta-errors.js';
import { MetaProvider, metaErrorOf } from './meta.provider.js';

const message: OtpMessage = { codeId: 'code-42', phone: '+233200000000', code: '482913', ttlMinutes: 5 };

describe('MetaProvider over HTTP', () => {
  let fake: MetaFake;
  let sut: MetaProvider;
  let logs: Awaited<ReturnType<typeof captureNestLogs>>;

  beforeAll(async () => {
    logs = await captureNestLogs();
    fake = await startMetaFake();
  });
  afterAll(async () => {
    logs.restore();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    sut = new MetaProvider(providersConfigFor({ meta: fake }, { timeoutMs: 300 }));
  });
  afterEach(() => sut.close());

  it('sends PROVIDERS.md\'s authentication template: body and url button (index "0") both the code, to without +', async () => {
    const result = await sut.send(message);

    expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `POST /v23.0/${fake.phoneNumberId}/messages`,
    ]);
    const [req] = fake.requests;
    expect(req.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.json).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '233200000000',
      type: 'template',
      template: {
        name: fake.templateName,
        language: { code: 'en_US' },
        components: [
          { type: 'body', parameters: [{ type: 'text', text: '482913' }] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '482913' }] },
        ],
      },
    });
    // messages[0].id (a wamid) is the provider message id.
    expect(fake.sent).toHaveLength(1);
    expect(result).toEqual({ providerMessageId: fake.sent[0].id, providerStatus: 'accepted' });
    expect(result.providerMessageId).toMatch(/^wamid\./);
  });

  it('reads the documented 200 answer without message_status as accepted', async () => {
    fake.queue({
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: '233200000000', wa_id: '233200000000' }],
        messages: [{ id: 'wamid.HBgLMjMzMjAwMDAwMDAwFQIAERgSQUJDREVGMDEyMzQ1Njc4OQA=' }],
      },
    });
    await expect(sut.send(message)).resolves.toEqual({
      providerMessageId: 'wamid.HBgLMjMzMjAwMDAwMDAwFQIAERgSQUJDREVGMDEyMzQ1Njc4OQA=',
      providerStatus: 'accepted',
    });
  });

  it('uses the configured template name, language, version and base URL', async () => {
    const other = await startMetaFake({ version: 'v21.0', templateName: 'code_fr', templateLanguage: 'fr' });
    const provider = new MetaProvider(providersConfigFor({ meta: other }));
    try {
      await provider.send(message);
      expect(other.requests[0].path).toBe(`/v21.0/${other.phoneNumberId}/messages`);
      expect(other.requests[0].json).toMatchObject({
        template: { name: 'code_fr', language: { code: 'fr' } },
      });
    } finally {
      provider.close();
      await other.close();
    }
  });

  it.each<[MetaMode, string, number, string, RateLimitScope | undefined]>([
    // Classified by error.code whatever the HTTP status.
    ['throughput_limit', 'rate_limited', 400, '130429', 'provider'],
    ['pair_rate_limit', 'rate_limited', 400, '131056', 'recipient'],
    ['something_went_wrong', 'retryable', 500, '131000', undefined],
    ['token_expired', 'configuration', 401, '190', undefined],
    ['permission_denied', 'configuration', 403, '10', undefined],
    ['template_missing', 'configuration', 404, '132001', undefined],
    ['template_params', 'configuration', 400, '132000', undefined],
    ['template_paused', 'configuration', 400, '132015', undefined],
    ['account_locked', 'configuration', 400, '131031', undefined],
    ['undeliverable', 'permanent', 400, '131026', undefined],
    ['invalid_parameter', 'permanent', 400, '100', undefined],
    // An unknown code: the HTTP status decides (400 → permanent).
    ['unknown_code', 'permanent', 400, '999999', undefined],
  ])('classifies %s as %s', async (mode, kind, httpStatus, errorCode, scope) => {
    fake.behave(mode);
    const error = await providerFailure(sut.send(message));
    expect(failureShape(error)).toEqual({
      provider: 'meta',
      kind,
      errorCode,
      httpStatus,
      // Only the pair rate limit has a documented wait; the others get the service's default.
      retryAfterMs: mode === 'pair_rate_limit' ? 6000 : undefined,
    });
    expect(error.options.scope).toBe(scope);
    // Meta's message text never becomes the error (it may echo the number).
    expect(error.message).toBe(`meta answered HTTP ${httpStatus} (${errorCode}/2494010)`);
  });

  it.each([
    ['a 502 HTML page', 'html_502', 'retryable', 'http_502'],
    ['a 200 HTML page', 'html', 'retryable', 'invalid_response'],
    ['a truncated 200', 'truncated', 'retryable', 'invalid_response'],
    ['an empty 200', 'empty', 'retryable', 'invalid_response'],
    ['a reset', 'reset', 'retryable', 'connection_reset'],
    ['a hang', 'hang', 'retryable', 'timeout'],
  ] as const)('treats %s (%s) as %s', async (_label, behaviour, kind, errorCode) => {
    fake.behave(behaviour);
    const error = await providerFailure(sut.send(message));
    expect({ kind: error.kind, errorCode: error.errorCode }).toEqual({ kind, errorCode });
  });

  it('waits for a slow answer within PROVIDER_TIMEOUT_MS', async () => {
    fake.queue({ delayMs: 150 });
    const result = await sut.send(message);
    expect(result.providerMessageId).toBe(fake.sent[0].id);
  });

  it('an aborted call rejects as retryable `aborted` and is not answered', async () => {
    fake.queue('hang');
    const controller = new AbortController();
    const pending = sut.send(message, controller.signal);
    setTimeout(() => controller.abort(), 20);
    const error = await providerFailure(pending);
    expect({ kind: error.kind, errorCode: error.errorCode }).toEqual({
      kind: 'retryable',
      errorCode: 'aborted',
    });
  });

  it('a 200 without messages[0].id is an invalid response', async () => {
    fake.queue({ status: 200, body: { messaging_product: 'whatsapp', contacts: [], messages: [] } });
    const error = await providerFailure(sut.send(message));
    expect(failureShape(error)).toMatchObject({
      kind: 'retryable',
      errorCode: 'invalid_response',
      httpStatus: 200,
    });
  });

  it('a wrong token is refused by the fake and read as configuration (190)', async () => {
    const config = providersConfigFor({ meta: fake });
    const provider = new MetaProvider({
      ...config,
      meta: { ...config.meta, accessToken: 'EAAnot-the-token-000000' },
    });
    try {
      const error = await providerFailure(provider.send(message));
      expect(failureShape(error)).toMatchObject({ kind: 'configuration', errorCode: '190', httpStatus: 401 });
    } finally {
      provider.close();
    }
  });

  it('logged nothing with the token, the code or the number', () => {
    const text = logs.lines.join('\n');
    expect(text).not.toContain(fake.accessToken);
    expect(text).not.toContain('482913');
    expect(text).not.toContain('233200000000');
  });
});

describe('Cloud API error classes (PROVIDERS.md)', () => {
  it.each([
    [130429, 'rate_limited'],
    [131056, 'rate_limited'],
    [80007, 'rate_limited'],
    [4, 'rate_limited'],
    [131048, 'rate_limited'],
    [1, 'retryable'],
    [2, 'retryable'],
    [131000, 'retryable'],
    [131016, 'retryable'],
    [131057, 'retryable'],
    [0, 'configuration'],
    [10, 'configuration'],
    [190, 'configuration'],
    [200, 'configuration'],
    [299, 'configuration'],
    [132000, 'configuration'],
    [132016, 'configuration'],
    [131031, 'configuration'],
    [368, 'configuration'],
    [131026, 'permanent'],
    [131008, 'permanent'],
    [131009, 'permanent'],
    [100, 'permanent'],
  ])('%d is %s', (code, kind) => {
    expect(classifyMetaError(code)?.kind).toBe(kind);
  });

  it('only the pair rate limit is scoped to the recipient (with its documented 6 s wait)', () => {
    expect(classifyMetaError(131056)).toEqual({
      kind: 'rate_limited',
      scope: 'recipient',
      retryAfterMs: 6000,
    });
  });

  it.each([130429, 80007, 4, 131048])(
    '%d is a provider-wide rate limit: pauses meta, no wait of its own (the service default applies)',
    (code) => {
      expect(classifyMetaError(code)).toEqual({ kind: 'rate_limited', scope: 'provider' });
    },
  );

  it('other retryable codes carry no scope and no wait', () => {
    for (const code of [1, 2, 131000, 131016, 131057]) {
      expect(classifyMetaError(code)).toEqual({ kind: 'retryable' });
    }
  });

  it('an unknown code has no class of its own', () => {
    expect(classifyMetaError(999999)).toBeUndefined();
  });

  it("reads PROVIDERS.md's error shape, and nothing else", () => {
    expect(
      metaErrorOf({
        error: {
          message: 'x',
          type: 'OAuthException',
          code: 131026,
          error_subcode: 2494010,
          fbtrace_id: 'A',
        },
      }),
    ).toEqual({ code: 131026, subcode: 2494010 });
    expect(metaErrorOf({ error: { code: '130429' } })).toEqual({ code: 130429, subcode: undefined });
    expect(metaErrorOf({ error: 'nope' })).toBeUndefined();
    expect(metaErrorOf({ error: { code: -1 } })).toBeUndefined();
    expect(metaErrorOf(undefined)).toBeUndefined();
  });
});
