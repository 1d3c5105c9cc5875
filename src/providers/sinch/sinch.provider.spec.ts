import { type SinchFake, SINCH_TOKEN_PATH, startSinchFake } from '../../../test/fakes/sinch.fake.js';
import { captureNestLogs, failureShape, providerFailure } from '../../../test/fakes/spec-helpers.js';
import { providersConfigFor } from '../../../test/fakes/providers-config.js';
import type { OtpMessage } from '../provider.interface.js';
import { SinchProvider } from './sinch.provider.js';

const message: OtpMessage = { codeId: 'code-42', phone: '+233200000000', code: '482913', ttlMinutes: 5 };

describe('SinchProvider over HTTP', () => {
  let fake: SinchFake;
  let sut: SinchProvider;
  let clock: number;
  let logs: Awaited<ReturnType<typeof captureNestLogs>>;

  const build = (config = providersConfigFor({ sinch: fake }, { timeoutMs: 300 })) => {
    sut?.close();
    sut = new SinchProvider(config, { now: () => clock });
  };

  beforeAll(async () => {
    logs = await captureNestLogs();
    fake = await startSinchFake();
  });
  afterAll(async () => {
    logs.restore();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    fake.setExpiresIn(3600);
    clock = Date.parse('2026-01-01T00:00:00Z');
    build();
  });
  afterEach(() => sut.close());

  describe('the wire', () => {
    it('gets a client-credentials token with Basic auth, then sends the template with the Bearer token', async () => {
      const result = await sut.send(message);

      expect(result).toEqual({ providerMessageId: 'sinch-msg-1', providerStatus: 'accepted' });
      expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /oauth2/token',
        'POST /v1/projects/project-test/messages:send',
      ]);
      const [tokenReq, sendReq] = fake.requests;
      expect(tokenReq.headers.authorization).toBe(
        `Basic ${Buffer.from('key-id-test:key-secret-test').toString('base64')}`,
      );
      expect(tokenReq.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(tokenReq.body).toBe('grant_type=client_credentials');
      expect(sendReq.headers.authorization).toBe(`Bearer ${fake.tokens[0]}`);
      expect(sendReq.headers['content-type']).toBe('application/json');
      expect(sendReq.json).toEqual({
        app_id: 'app-test',
        recipient: {
          identified_by: { channel_identities: [{ channel: 'WHATSAPP', identity: '+233200000000' }] },
        },
        message: {
          template_message: {
            channel_template: {
              WHATSAPP: { template_id: 'otp_code', language_code: 'en_US', parameters: { code: '482913' } },
            },
          },
        },
        channel_priority_order: ['WHATSAPP'],
        message_metadata: 'code-42',
      });
    });

    it('sends a client reference derived from the attempt (codeId:attemptId) as message_metadata', async () => {
      await sut.send({ ...message, attemptId: 'attempt-7' });

      expect((fake.sendRequests()[0].json as { message_metadata: string }).message_metadata).toBe(
        'code-42:attempt-7',
      );
    });

    it('sends free text only inside the session window', async () => {
      await sut.send({ ...message, withinSessionWindow: true, locale: 'es' });
      await sut.send({ ...message, withinSessionWindow: false });

      const [inside, outside] = fake.sendRequests().map((r) => (r.json as { message: unknown }).message);
      expect(inside).toEqual({
        text_message: {
          text: 'Tu código de verificación es 482913. Caduca en 5 minutos. No lo compartas con nadie.',
        },
      });
      expect(outside).toHaveProperty('template_message.channel_template.WHATSAPP.template_id', 'otp_code');
    });

    it('uses the configured template language', async () => {
      build(providersConfigFor({ sinch: fake }, { templateLanguage: 'pt_BR' }));

      await sut.send(message);

      expect(fake.sendRequests()[0].json).toHaveProperty(
        'message.template_message.channel_template.WHATSAPP.language_code',
        'pt_BR',
      );
    });
  });

  describe('the token', () => {
    it('is fetched once for many sends', async () => {
      for (let i = 0; i < 5; i += 1) await sut.send(message);

      expect(fake.tokenRequests).toBe(1);
      expect(fake.sendRequests().map((r) => r.headers.authorization)).toEqual(
        Array(5).fill(`Bearer ${fake.tokens[0]}`),
      );
    });

    it('is fetched by one request for 20 concurrent sends (single flight)', async () => {
      fake.queueToken({ delayMs: 80 });

      const results = await Promise.all(Array.from({ length: 20 }, () => sut.send(message)));

      expect(fake.tokenRequests).toBe(1);
      expect(sut.tokens.tokenRequests).toBe(1);
      expect(new Set(results.map((r) => r.providerMessageId)).size).toBe(20);
      expect(fake.sendRequests()).toHaveLength(20);
    });

    it('is refreshed 60 s before it expires, not earlier', async () => {
      await sut.send(message);
      clock += 3600_000 - 60_000 - 1;
      await sut.send(message);
      expect(fake.tokenRequests).toBe(1);

      clock += 1;
      await sut.send(message);

      expect(fake.tokenRequests).toBe(2);
      expect(fake.sendRequests()[2].headers.authorization).toBe(`Bearer ${fake.tokens[1]}`);
    });

    it('is refreshed at 90 % of a short lifetime (10 % margin when below 60 s)', async () => {
      fake.setExpiresIn(100);
      await sut.send(message);
      clock += 89_999;
      await sut.send(message);
      expect(fake.tokenRequests).toBe(1);

      clock += 1;
      await sut.send(message);

      expect(fake.tokenRequests).toBe(2);
    });

    it('is refreshed once when a send answers 401, and the send is retried with it', async () => {
      await sut.send(message);
      fake.revokeTokens();

      const result = await sut.send(message);

      expect(result.providerMessageId).toBe('sinch-msg-2');
      expect(fake.tokenRequests).toBe(2);
      const auth = fake.sendRequests().map((r) => r.headers.authorization);
      expect(auth).toEqual([
        `Bearer ${fake.tokens[0]}`,
        `Bearer ${fake.tokens[0]}`,
        `Bearer ${fake.tokens[1]}`,
      ]);
    });

    it('refreshes once, not once per caller, when 10 concurrent sends meet a revoked token', async () => {
      await sut.send(message);
      fake.revokeTokens();
      fake.queueToken({ delayMs: 50 });

      await Promise.all(Array.from({ length: 10 }, () => sut.send(message)));

      expect(fake.tokenRequests).toBe(2);
    });

    it('gives a configuration error when 401 persists after the one refresh', async () => {
      fake.behave('unauthorized');

      const error = await providerFailure(sut.send(message));

      expect(failureShape(error)).toEqual({
        provider: 'sinch',
        kind: 'configuration',
        errorCode: 'UNAUTHENTICATED',
        httpStatus: 401,
        retryAfterMs: undefined,
      });
      expect(fake.tokenRequests).toBe(2);
      expect(fake.sendRequests()).toHaveLength(2);
    });

    it('gives a configuration error when the token endpoint refuses the key, and sends nothing', async () => {
      const config = providersConfigFor({ sinch: fake }, { timeoutMs: 300 });
      build({ ...config, sinch: { ...config.sinch, keySecret: 'wrong' } });

      const error = await providerFailure(sut.send(message));

      expect(failureShape(error)).toEqual({
        provider: 'sinch',
        kind: 'configuration',
        errorCode: 'invalid_client',
        httpStatus: 401,
        retryAfterMs: undefined,
      });
      expect(fake.requests.map((r) => r.path)).toEqual([SINCH_TOKEN_PATH]);
    });

    it('does not cache a failure: a token 500 is retryable and the next send fetches again', async () => {
      fake.queueToken('server_error');

      const error = await providerFailure(sut.send(message));
      const result = await sut.send(message);

      expect([error.kind, error.errorCode, error.options.httpStatus]).toEqual([
        'retryable',
        'server_error',
        500,
      ]);
      expect(result.providerMessageId).toBe('sinch-msg-1');
      expect(fake.tokenRequests).toBe(2);
    });

    it('times out a hanging token endpoint', async () => {
      fake.behaveToken('hang');

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'timeout']);
      expect(fake.sendRequests()).toHaveLength(0);
    });

    it('treats a token answer without access_token as an invalid response', async () => {
      fake.queueToken({ status: 200, body: { token_type: 'bearer' } }, 'truncated');

      const first = await providerFailure(sut.send(message));
      const second = await providerFailure(sut.send(message));

      expect([first.errorCode, second.errorCode]).toEqual(['invalid_response', 'invalid_response']);
      expect(first.kind).toBe('retryable');
    });

    it('lets one caller stop waiting for a shared token without failing the others', async () => {
      fake.queueToken({ delayMs: 150 });
      const controller = new AbortController();

      const aborted = providerFailure(sut.send(message, controller.signal));
      const other = sut.send(message);
      setTimeout(() => controller.abort(), 30);

      expect((await aborted).errorCode).toBe('aborted');
      expect((await other).providerMessageId).toBe('sinch-msg-1');
      expect(fake.tokenRequests).toBe(1);
      expect(fake.sendRequests()).toHaveLength(1);
    });
  });

  describe('send errors', () => {
    it.each([
      ['invalid_argument', 'permanent', 'INVALID_ARGUMENT', 400, undefined],
      ['forbidden', 'configuration', 'PERMISSION_DENIED', 403, undefined],
      ['rate_limited', 'rate_limited', 'RESOURCE_EXHAUSTED', 429, 10_000],
      ['internal', 'retryable', 'INTERNAL', 500, undefined],
      ['unavailable', 'retryable', 'UNAVAILABLE', 503, undefined],
      ['error_body_200', 'permanent', 'INVALID_ARGUMENT', 200, undefined],
    ] as const)('maps %s to %s %s', async (mode, kind, errorCode, httpStatus, retryAfterMs) => {
      fake.behave(mode);

      const error = await providerFailure(sut.send(message));

      expect(failureShape(error)).toEqual({ provider: 'sinch', kind, errorCode, httpStatus, retryAfterMs });
      expect(fake.tokenRequests).toBe(1);
    });

    it('rejects a message the real API would refuse (no + on the number)', async () => {
      const error = await providerFailure(sut.send({ ...message, phone: '233200000000' }));

      expect([error.kind, error.errorCode]).toEqual(['permanent', 'INVALID_ARGUMENT']);
    });

    it.each([
      ['html', 'invalid_response', 200],
      ['html_502', 'http_502', 502],
      ['truncated', 'invalid_response', 200],
      ['empty', 'invalid_response', 200],
    ] as const)('classifies %s as retryable %s', async (mode, errorCode, httpStatus) => {
      fake.behave(mode);

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode, error.options.httpStatus]).toEqual([
        'retryable',
        errorCode,
        httpStatus,
      ]);
    });

    it('classifies a reset as retryable', async () => {
      fake.behave('reset');

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'connection_reset']);
    });

    it('fires the timeout on a hanging send', async () => {
      fake.behave('hang');
      const started = Date.now();

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'timeout']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  it('logged token failures without the secret, the token, the code or the number (whole suite so far)', () => {
    expect(logs.lines.some((line) => line.includes('sinch token request failed'))).toBe(true);
    for (const line of logs.lines) {
      for (const secret of ['key-secret-test', 'tok-', '482913', '233200000000']) {
        expect(line).not.toContain(secret);
      }
    }
  });
});
