import { type ExecutionContext, Logger } from '@nestjs/common';
import type { WebhooksConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { MetaSignatureGuard } from './meta-signature.guard.js';
import { matchesAnyToken, metaSignature } from './meta-signature.js';
import { WebhookRejects } from './webhook-rejects.js';
import type { WebhookRequest } from './webhook-request.js';

const BODY = Buffer.from('{"object":"whatsapp_business_account","entry":[]}', 'utf8');

function contextOf(request: Partial<WebhookRequest>): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function request(signature: string | undefined, rawBody: Buffer | null = BODY): Partial<WebhookRequest> {
  return {
    rawBody: rawBody ?? undefined,
    headers: signature === undefined ? {} : { 'x-hub-signature-256': signature },
  };
}

describe('Meta webhook signature', () => {
  it("matches PROVIDERS.md's test vector (key secret, body test)", () => {
    expect(metaSignature('secret', Buffer.from('test', 'utf8'))).toBe(
      '0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914',
    );
  });

  it('is computed over the bytes, not over re-serialised JSON', () => {
    const raw = Buffer.from('{"a":"caf\\u00e9 🎉"}', 'utf8');
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))), 'utf8');
    expect(metaSignature('secret', raw)).not.toBe(metaSignature('secret', reserialised));
  });

  it('compares verify tokens whatever their length, against every token of a rotation', () => {
    expect(matchesAnyToken(['new-token', 'old-token'], 'old-token')).toBe(true);
    expect(matchesAnyToken(['new-token'], 'new-token-and-more')).toBe(false);
    expect(matchesAnyToken(['new-token'], '')).toBe(false);
    expect(matchesAnyToken([], 'new-token')).toBe(false);
  });
});

describe('MetaSignatureGuard', () => {
  let metrics: MetricsService;
  const guard = (secrets = ['meta-new', 'meta-old']) => {
    const config: WebhooksConfig = {
      sinchSecrets: [],
      enosendSecrets: [],
      metaAppSecrets: secrets,
      metaVerifyTokens: [],
      toleranceSeconds: 300,
    };
    return new MetaSignatureGuard(config, new WebhookRejects(metrics));
  };

  async function reason(secrets: string[] | undefined, req: Partial<WebhookRequest>): Promise<string> {
    expect(() => guard(secrets).canActivate(contextOf(req))).toThrow('Missing or invalid webhook signature');
    const { values } = await metrics.webhookRejects.get();
    expect(values).toHaveLength(1);
    expect(values[0]).toMatchObject({ value: 1, labels: { provider: 'meta' } });
    return String(values[0].labels.reason);
  }

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));
  beforeEach(() => {
    metrics = new MetricsService();
  });

  it('accepts sha256=<hex> under either secret of a rotation', () => {
    const sut = guard();
    for (const secret of ['meta-new', 'meta-old']) {
      expect(sut.canActivate(contextOf(request(`sha256=${metaSignature(secret, BODY)}`)))).toBe(true);
    }
  });

  it('accepts an upper-case hex digest (the HMAC is the same)', () => {
    const header = `sha256=${metaSignature('meta-new', BODY).toUpperCase()}`;
    expect(guard().canActivate(contextOf(request(header)))).toBe(true);
  });

  it.each([
    ['no header', undefined, 'unsigned'],
    ['no prefix', metaSignature('meta-new', BODY), 'bad_signature'],
    ['sha1=', `sha1=${metaSignature('meta-new', BODY).slice(0, 40)}`, 'bad_signature'],
    ['a wrong secret', `sha256=${metaSignature('not-the-secret', BODY)}`, 'bad_signature'],
    ['a truncated digest', `sha256=${metaSignature('meta-new', BODY).slice(0, 63)}`, 'bad_signature'],
  ])('refuses %s (%s)', async (_label, header, expected) => {
    expect(await reason(undefined, request(header))).toBe(expected);
  });

  it('refuses a tampered body', async () => {
    const header = `sha256=${metaSignature('meta-new', BODY)}`;
    expect(await reason(undefined, request(header, Buffer.from(`${BODY.toString()} `)))).toBe(
      'bad_signature',
    );
  });

  it('fails closed without META_APP_SECRET', async () => {
    const header = `sha256=${metaSignature('meta-new', BODY)}`;
    expect(await reason([], request(header))).toBe('not_configured');
  });
});
