import { type EnoSendFake, startEnoSendFake } from '../../../test/fakes/enosend.fake.js';
import { captureNestLogs, failureShape, providerFailure } from '../../../test/fakes/spec-helpers.js';
import { type FakeConfigOptions, providersConfigFor } from '../../../test/fakes/providers-config.js';
import type { OtpMessage } from '../provider.interface.js';
import { EnoSendProvider } from './enosend.provider.js';

const message: OtpMessage = { codeId: 'code-1', phone: '+233200000000', code: '654321', ttlMinutes: 10 };
const TEXT = 'Your verification code is 654321. It expires in 10 minutes. Do not share it with anyone.';

describe('EnoSendProvider over HTTP', () => {
  let fake: EnoSendFake;
  let sut: EnoSendProvider;
  let logs: Awaited<ReturnType<typeof captureNestLogs>>;

  const build = (options: FakeConfigOptions = {}, pollIntervalMs = 20) => {
    sut?.close();
    sut = new EnoSendProvider(providersConfigFor({ enosend: fake }, { timeoutMs: 300, ...options }), {
      pollIntervalMs,
    });
  };

  beforeAll(async () => {
    logs = await captureNestLogs();
    fake = await startEnoSendFake();
  });
  afterAll(async () => {
    logs.restore();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    build();
  });
  afterEach(() => sut.close());

  describe('send', () => {
    it('posts { number without +, text } with the Bearer key to the instance and returns message_id', async () => {
      const result = await sut.send(message);

      expect(result).toEqual({ providerMessageId: 'eno-msg-1', providerStatus: 'accepted' });
      expect(fake.requests).toHaveLength(1);
      const [req] = fake.requests;
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/instances/inst-test/messages/text');
      expect(req.headers.authorization).toBe('Bearer wa_live_test_key');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.json).toEqual({ number: '233200000000', text: TEXT });
    });

    it.each([
      ['send_failed', 'permanent', 'send_failed', 200, undefined],
      ['instance_disconnected', 'retryable', 'instance_disconnected', 200, undefined],
      ['invalid_number', 'permanent', 'invalid_number', 400, undefined],
      ['unauthorized', 'configuration', 'unauthorized', 401, undefined],
      ['forbidden', 'configuration', 'forbidden', 403, undefined],
      ['rate_limited', 'rate_limited', 'rate_limited', 429, 20_000],
      ['server_error', 'retryable', 'internal_error', 500, undefined],
    ] as const)('maps %s to %s %s', async (mode, kind, errorCode, httpStatus, retryAfterMs) => {
      fake.behave(mode);

      const error = await providerFailure(sut.send(message));

      expect(failureShape(error)).toEqual({ provider: 'enosend', kind, errorCode, httpStatus, retryAfterMs });
    });

    it('reads ok:false details: a rate hint is retryable, a key problem is configuration', async () => {
      fake.queue(
        { status: 200, body: { ok: false, error: 'blocked', details: 'Too many messages, try again later' } },
        { status: 200, body: { ok: false, details: { reason: 'invalid api key' } } },
      );

      const first = await providerFailure(sut.send(message));
      const second = await providerFailure(sut.send(message));

      expect([first.kind, first.errorCode]).toEqual(['retryable', 'blocked']);
      expect([second.kind, second.errorCode]).toEqual(['configuration', 'send_failed']);
    });

    it('answers like the real API to a wrong key', async () => {
      sut.close();
      const config = providersConfigFor({ enosend: fake });
      sut = new EnoSendProvider({ ...config, enosend: { ...config.enosend, apiKey: 'wa_live_wrong' } });

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode, error.options.httpStatus]).toEqual([
        'configuration',
        'unauthorized',
        401,
      ]);
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

    it('treats ok:true without a message_id as an invalid response', async () => {
      fake.behave({ status: 200, body: { ok: true } });

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'invalid_response']);
    });

    it('classifies a reset connection as retryable', async () => {
      fake.behave('reset');

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'connection_reset']);
    });

    it('fires the timeout on a hang', async () => {
      fake.behave('hang');
      const started = Date.now();

      const error = await providerFailure(sut.send(message));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'timeout']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  describe('awaitDelivery', () => {
    it('polls GET /messages/{id} with the Bearer key until delivered', async () => {
      fake.statuses('queued', 'queued', 'delivered');

      const state = await sut.awaitDelivery('eno-msg-7');

      expect(state).toBe('delivered');
      const polls = fake.statusRequests();
      expect(polls).toHaveLength(3);
      expect(polls.map((r) => `${r.method} ${r.url}`)).toEqual(Array(3).fill('GET /messages/eno-msg-7'));
      expect(polls.every((r) => r.headers.authorization === 'Bearer wa_live_test_key')).toBe(true);
    });

    it('stops at sent: the message left the queue', async () => {
      fake.statuses('queued', 'sent', 'delivered');

      await expect(sut.awaitDelivery('eno-msg-1')).resolves.toBe('sent');
      expect(fake.statusRequests()).toHaveLength(2);
    });

    it('returns failed as soon as EnoSend says so', async () => {
      fake.statuses('queued', 'failed');

      await expect(sut.awaitDelivery('eno-msg-1')).resolves.toBe('failed');
      expect(fake.statusRequests()).toHaveLength(2);
    });

    it('stays queued until statusPollMs has passed', async () => {
      build({ statusPollMs: 200 });
      fake.statuses('queued');
      const started = Date.now();

      const state = await sut.awaitDelivery('eno-msg-1');

      const elapsed = Date.now() - started;
      expect(state).toBe('queued');
      expect(elapsed).toBeGreaterThanOrEqual(195);
      expect(elapsed).toBeLessThan(500);
      expect(fake.statusRequests().length).toBeGreaterThanOrEqual(4);
    });

    it('keeps polling through errors and keeps the last state', async () => {
      fake.statuses('queued', 'reset', { status: 500, body: 'oops' }, 'html', 'truncated', 'sent');

      await expect(sut.awaitDelivery('eno-msg-1')).resolves.toBe('sent');
      expect(fake.statusRequests()).toHaveLength(6);
    });

    it('returns the last state seen when only errors follow, polling on until the deadline', async () => {
      build({ statusPollMs: 150 });
      fake.statuses('queued', 'reset');

      await expect(sut.awaitDelivery('eno-msg-1')).resolves.toBe('queued');
      expect(fake.statusRequests().length).toBeGreaterThanOrEqual(4);
    });

    it('bounds a hanging status call by the polling deadline', async () => {
      build({ statusPollMs: 150, timeoutMs: 5000 });
      fake.statuses('hang');
      const started = Date.now();

      await expect(sut.awaitDelivery('eno-msg-1')).resolves.toBe('queued');
      expect(Date.now() - started).toBeLessThan(400);
    });

    it('stops polling when the key is refused', async () => {
      fake.statuses({ status: 401, body: { ok: false, error: 'unauthorized' } });

      await expect(sut.awaitDelivery('eno-msg-1')).resolves.toBe('queued');
      expect(fake.statusRequests()).toHaveLength(1);
    });

    it('does not poll when statusPollMs is 0 and counts the accepted message as sent', async () => {
      build({ statusPollMs: 0 });

      await expect(sut.awaitDelivery('eno-msg-1')).resolves.toBe('sent');
      expect(fake.statusRequests()).toHaveLength(0);
    });

    it('rejects with aborted when the caller aborts', async () => {
      fake.statuses('queued');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 70);

      const error = await providerFailure(sut.awaitDelivery('eno-msg-1', controller.signal));

      expect([error.kind, error.errorCode]).toEqual(['retryable', 'aborted']);
    });

    it('works end to end: send, then delivered', async () => {
      fake.statuses('queued', 'delivered');

      const { providerMessageId } = await sut.send(message);
      const state = await sut.awaitDelivery(providerMessageId);

      expect([providerMessageId, state]).toEqual(['eno-msg-1', 'delivered']);
      expect(fake.statusRequests().map((r) => r.path)).toEqual([
        '/messages/eno-msg-1',
        '/messages/eno-msg-1',
      ]);
    });
  });

  it('logged poll failures without the code, the number or the key (whole suite so far)', () => {
    expect(logs.lines.some((line) => line.includes('enosend status poll failed'))).toBe(true);
    for (const line of logs.lines) {
      expect(line).not.toContain('654321');
      expect(line).not.toContain('233200000000');
      expect(line).not.toContain('wa_live_test_key');
    }
  });
});
