import { type DnzFake, startDnzFake } from '../../../test/fakes/dnz.fake.js';
import { closedPortUrl, failureShape, providerFailure } from '../../../test/fakes/spec-helpers.js';
import { providersConfigFor } from '../../../test/fakes/providers-config.js';
import type { OtpMessage } from '../provider.interface.js';
import { DnzProvider } from './dnz.provider.js';

const message: OtpMessage = { codeId: 'code-1', phone: '+233200000000', code: '123456', ttlMinutes: 5 };
const TEXT = 'Your verification code is 123456. It expires in 5 minutes. Do not share it with anyone.';

describe('DnzProvider over HTTP', () => {
  let fake: DnzFake;
  let sut: DnzProvider;

  beforeAll(async () => {
    fake = await startDnzFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
    sut = new DnzProvider(providersConfigFor({ dnz: fake }, { timeoutMs: 300 }));
  });
  afterEach(() => sut.close());

  it('posts { apiKey, number, message } as JSON to /api/send-otp and returns the jobId', async () => {
    const result = await sut.send(message);

    expect(result).toEqual({ providerMessageId: 'dnz-job-1', providerStatus: 'accepted' });
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/send-otp');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.json).toEqual({ apiKey: 'dnz-test-key', number: '+233200000000', message: TEXT });
  });

  it('writes the message in the requested language', async () => {
    await sut.send({ ...message, locale: 'fr-FR', ttlMinutes: 1 });

    expect((fake.requests[0].json as { message: string }).message).toBe(
      'Votre code de vérification est 123456. Il expire dans 1 minute. Ne le partagez avec personne.',
    );
  });

  it.each([
    ['missing_fields', 'permanent', 400],
    ['invalid_number', 'permanent', 400],
    ['invalid_api_key', 'configuration', 401],
    ['send_otp_failed', 'retryable', 500],
  ] as const)('maps %s to a %s error', async (mode, kind, status) => {
    fake.behave(mode);

    const error = await providerFailure(sut.send(message));

    expect(failureShape(error)).toEqual({
      provider: 'dnz',
      kind,
      errorCode: mode,
      httpStatus: status,
      retryAfterMs: undefined,
    });
  });

  it('maps 429 to a rate limit of the provider with the Retry-After delay', async () => {
    fake.behave('rate_limited');

    const error = await providerFailure(sut.send(message));

    expect(error.options.scope).toBe('provider');
    expect(failureShape(error)).toEqual({
      provider: 'dnz',
      kind: 'rate_limited',
      errorCode: 'rate_limited',
      httpStatus: 429,
      retryAfterMs: 30_000,
    });
  });

  it('maps a wrong key, as the real engine checks it, to a configuration error', async () => {
    sut.close();
    const config = providersConfigFor({ dnz: fake });
    sut = new DnzProvider({ ...config, dnz: { ...config.dnz, apiKey: 'wrong' } });

    const error = await providerFailure(sut.send(message));

    expect([error.kind, error.errorCode, error.options.httpStatus]).toEqual([
      'configuration',
      'invalid_api_key',
      401,
    ]);
  });

  it('maps other statuses: 503 retryable, 404 permanent, 301 configuration', async () => {
    fake.queue(
      'unavailable',
      { status: 404, body: '<html>Not Found</html>', headers: { 'content-type': 'text/html' } },
      { status: 301, headers: { location: 'https://elsewhere.example/' } },
    );

    const codes = [];
    for (let i = 0; i < 3; i += 1) {
      const error = await providerFailure(sut.send(message));
      codes.push([error.kind, error.errorCode]);
    }

    expect(codes).toEqual([
      ['retryable', 'unavailable'],
      ['permanent', 'http_404'],
      ['configuration', 'http_301'],
    ]);
    expect(fake.requests).toHaveLength(3);
  });

  it('never lets a documented permanent code make a 5xx permanent', async () => {
    fake.behave({ status: 502, body: { error: 'invalid_number' } });

    const error = await providerFailure(sut.send(message));

    expect([error.kind, error.errorCode]).toEqual(['retryable', 'invalid_number']);
  });

  describe('garbage and broken connections', () => {
    it.each([
      ['html', 'retryable', 'invalid_response', 200],
      ['html_502', 'retryable', 'http_502', 502],
      ['truncated', 'retryable', 'invalid_response', 200],
      ['empty', 'retryable', 'invalid_response', 200],
      ['error_body_200', 'retryable', 'send_otp_failed', 200],
    ] as const)('classifies %s as %s %s', async (mode, kind, errorCode, status) => {
      fake.behave(mode);

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode, error.options.httpStatus]).toEqual([kind, errorCode, status]);
    });

    it('trusts a documented code in a 200 error body', async () => {
      fake.behave({ status: 200, body: { accepted: false, error: 'invalid_number' } });

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['permanent', 'invalid_number']);
    });

    it('treats a 202 without a jobId as an invalid response', async () => {
      fake.behave({ status: 202, body: { accepted: true } });

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'invalid_response']);
    });

    it('classifies a reset connection as retryable', async () => {
      fake.behave('reset');

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'connection_reset']);
      expect(fake.requests).toHaveLength(1);
    });

    it('classifies a refused connection as retryable', async () => {
      sut.close();
      const config = providersConfigFor({ dnz: fake });
      sut = new DnzProvider({ ...config, dnz: { ...config.dnz, baseUrl: await closedPortUrl() } });

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'connection_refused']);
    });
  });

  describe('time', () => {
    it('fires the timeout when DNZ never answers', async () => {
      fake.behave('hang');
      const started = Date.now();

      const error = await providerFailure(sut.send(message));

      const elapsed = Date.now() - started;
      expect([error.kind, error.errorCode]).toEqual(['retryable', 'timeout']);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1000);
    });

    it('fires the timeout when DNZ answers too late', async () => {
      fake.behave({ delayMs: 800 });

      const error = await providerFailure(sut.send(message));

      expect(error.errorCode).toBe('timeout');
    });

    it('waits for a slow answer within the timeout', async () => {
      fake.behave({ delayMs: 100 });

      await expect(sut.send(message)).resolves.toEqual({
        providerMessageId: 'dnz-job-1',
        providerStatus: 'accepted',
      });
    });

    it('stops at once when the caller aborts', async () => {
      fake.behave('hang');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();

      const error = await providerFailure(sut.send(message, controller.signal));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'aborted']);
      expect(Date.now() - started).toBeLessThan(250);
    });

    it('does not call DNZ with an already aborted signal', async () => {
      const error = await providerFailure(sut.send(message, AbortSignal.abort()));

      expect(error.errorCode).toBe('aborted');
      expect(fake.requests).toHaveLength(0);
    });
  });

  it('keeps the code, the number and the key out of error messages', async () => {
    const errors = [];
    for (const mode of ['invalid_number', 'rate_limited', 'html', 'reset'] as const) {
      fake.behave(mode);
      errors.push(await providerFailure(sut.send(message)));
    }

    for (const error of errors) {
      const text = `${error.message} ${JSON.stringify(error)}`;
      expect(text).not.toContain('123456');
      expect(text).not.toContain('233200000000');
      expect(text).not.toContain('dnz-test-key');
    }
  });
});
