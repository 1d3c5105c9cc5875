import { type ExecutionContext, Logger } from '@nestjs/common';
import { answerOf, Clock, DomainError } from '../common/index.js';
import type { WebhooksConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { SinchSignatureGuard } from './sinch-signature.guard.js';
import type { WebhookReceiptsService } from './webhook-receipts.service.js';
import { WebhookRejects } from './webhook-rejects.js';
import type { WebhookRequest } from './webhook-request.js';
import { sinchSignature } from './webhook-signature.js';

class FixedClock extends Clock {
  constructor(public at: Date) {
    super();
  }
  now(): Date {
    return this.at;
  }
}

/** In-memory nonce store with the same first-insert-wins contract as the PostgreSQL one. */
class MemoryReceipts {
  readonly seen = new Set<string>();
  claim(provider: string, kind: string, value: string): Promise<boolean> {
    const key = `${provider}/${kind}/${value}`;
    if (this.seen.has(key)) return Promise.resolve(false);
    this.seen.add(key);
    return Promise.resolve(true);
  }
}

const NOW = 1_700_000_000;
const BODY = '{"message_delivery_report":{"message_id":"m-1","status":"DELIVERED"}}';

function contextOf(request: Partial<WebhookRequest>): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function signed(
  secret: string,
  overrides: { body?: string; nonce?: string; timestamp?: string; algorithm?: string } = {},
): Partial<WebhookRequest> {
  const body = overrides.body ?? BODY;
  const nonce = overrides.nonce ?? 'nonce-1';
  const timestamp = overrides.timestamp ?? String(NOW);
  return {
    rawBody: Buffer.from(body, 'utf8'),
    headers: {
      'x-sinch-webhook-signature': sinchSignature(secret, Buffer.from(body, 'utf8'), nonce, timestamp),
      'x-sinch-webhook-signature-nonce': nonce,
      'x-sinch-webhook-signature-timestamp': timestamp,
      'x-sinch-webhook-signature-algorithm': overrides.algorithm ?? 'HmacSHA256',
    },
  };
}

describe('SinchSignatureGuard', () => {
  let metrics: MetricsService;
  let receipts: MemoryReceipts;
  let clock: FixedClock;

  function guard(secrets: string[] = ['new-secret', 'old-secret']): SinchSignatureGuard {
    const config: WebhooksConfig = {
      sinchSecrets: secrets,
      enosendSecrets: [],
      metaAppSecrets: [],
      metaVerifyTokens: [],
      toleranceSeconds: 300,
    };
    return new SinchSignatureGuard(
      config,
      clock,
      receipts as unknown as WebhookReceiptsService,
      new WebhookRejects(metrics),
    );
  }

  async function rejection(sut: SinchSignatureGuard, request: Partial<WebhookRequest>): Promise<string> {
    const error = await sut.canActivate(contextOf(request)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(answerOf(error as DomainError)).toMatchObject({
      status: 401,
      body: { code: 'invalid_signature' },
    });
    // A fresh registry per test: exactly one reject counted, under its reason.
    const { values } = await metrics.webhookRejects.get();
    expect(values).toHaveLength(1);
    expect(values[0]).toMatchObject({ value: 1, labels: { provider: 'sinch' } });
    return String(values[0].labels.reason);
  }

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    metrics = new MetricsService();
    receipts = new MemoryReceipts();
    clock = new FixedClock(new Date(NOW * 1000));
  });

  it('accepts a valid signature, claims the nonce and remembers it on the request', async () => {
    const sut = guard();
    const request = signed('new-secret');
    await expect(sut.canActivate(contextOf(request))).resolves.toBe(true);
    expect(request.webhookNonce).toBe('nonce-1');
    expect([...receipts.seen]).toEqual(['sinch/nonce/nonce-1']);
  });

  it('accepts the second secret of a rotation list', async () => {
    await expect(guard().canActivate(contextOf(signed('old-secret')))).resolves.toBe(true);
  });

  it('refuses a replayed nonce', async () => {
    const sut = guard();
    await sut.canActivate(contextOf(signed('new-secret')));
    expect(await rejection(sut, signed('new-secret'))).toBe('replayed');
  });

  it.each([
    ['a wrong secret', () => signed('other-secret'), 'bad_signature'],
    [
      'a tampered body',
      () => ({ ...signed('new-secret'), rawBody: Buffer.from(BODY.replace('DELIVERED', 'READ')) }),
      'bad_signature',
    ],
    ['a timestamp 301 s old', () => signed('new-secret', { timestamp: String(NOW - 301) }), 'stale'],
    ['a timestamp 301 s ahead', () => signed('new-secret', { timestamp: String(NOW + 301) }), 'stale'],
    ['a non-numeric timestamp', () => signed('new-secret', { timestamp: 'yesterday' }), 'stale'],
    ['another algorithm', () => signed('new-secret', { algorithm: 'HmacSHA1' }), 'bad_algorithm'],
    ['no headers', () => ({ rawBody: Buffer.from(BODY), headers: {} }), 'unsigned'],
    ['no raw body', () => ({ ...signed('new-secret'), rawBody: undefined }), 'unsigned'],
  ])('refuses %s and stores no nonce', async (_label, request, reason) => {
    expect(await rejection(guard(), request())).toBe(reason);
    expect(receipts.seen.size).toBe(0);
  });

  it('accepts timestamps right at the tolerance', async () => {
    await expect(
      guard().canActivate(contextOf(signed('new-secret', { timestamp: String(NOW - 300), nonce: 'a' }))),
    ).resolves.toBe(true);
    await expect(
      guard().canActivate(contextOf(signed('new-secret', { timestamp: String(NOW + 300), nonce: 'b' }))),
    ).resolves.toBe(true);
  });

  it('fails closed without a configured secret', async () => {
    expect(await rejection(guard([]), signed('new-secret'))).toBe('not_configured');
  });

  it('throws the contract error', async () => {
    const error = await guard()
      .canActivate(contextOf(signed('nope')))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(answerOf(error as DomainError).body).toEqual({
      statusCode: 401,
      code: 'invalid_signature',
      message: 'Missing or invalid webhook signature',
    });
  });
});
