import { type ExecutionContext, Logger } from '@nestjs/common';
import type { WebhooksConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { EnoSendSignatureGuard } from './enosend-signature.guard.js';
import { WebhookRejects } from './webhook-rejects.js';
import type { WebhookRequest } from './webhook-request.js';
import { enosendSignature } from './webhook-signature.js';

const BODY = Buffer.from('{"event":"instance.state","instance_id":"inst-1","state":"disconnected"}', 'utf8');

function contextOf(request: Partial<WebhookRequest>): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function request(signature: string | undefined, rawBody: Buffer | null = BODY): Partial<WebhookRequest> {
  return {
    rawBody: rawBody ?? undefined,
    headers: signature === undefined ? {} : { 'x-enosend-signature': signature },
  };
}

describe('EnoSendSignatureGuard', () => {
  let metrics: MetricsService;
  const guard = (secrets = ['eno-new', 'eno-old']) => {
    const config: WebhooksConfig = {
      sinchSecrets: [],
      enosendSecrets: secrets,
      metaAppSecrets: [],
      metaVerifyTokens: [],
      toleranceSeconds: 300,
    };
    return new EnoSendSignatureGuard(config, new WebhookRejects(metrics));
  };

  async function reason(secrets: string[] | undefined, req: Partial<WebhookRequest>): Promise<string> {
    expect(() => guard(secrets).canActivate(contextOf(req))).toThrow('Missing or invalid webhook signature');
    const { values } = await metrics.webhookRejects.get();
    expect(values).toHaveLength(1);
    expect(values[0]).toMatchObject({ value: 1, labels: { provider: 'enosend' } });
    return String(values[0].labels.reason);
  }

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    metrics = new MetricsService();
  });

  it.each([
    ['bare hex', enosendSignature('eno-new', BODY)],
    ['a sha256= prefix', `sha256=${enosendSignature('eno-new', BODY)}`],
    ['uppercase hex', enosendSignature('eno-new', BODY).toUpperCase()],
    ['the old secret of a rotation', enosendSignature('eno-old', BODY)],
  ])('accepts %s', (_label, signature) => {
    expect(guard().canActivate(contextOf(request(signature)))).toBe(true);
  });

  it.each([
    ['a wrong secret', request(enosendSignature('other', BODY)), 'bad_signature'],
    [
      'a tampered body',
      request(enosendSignature('eno-new', BODY), Buffer.from(`${BODY.toString()} `)),
      'bad_signature',
    ],
    ['a truncated signature', request(enosendSignature('eno-new', BODY).slice(0, 63)), 'bad_signature'],
    ['no signature', request(undefined), 'unsigned'],
    ['no raw body', request(enosendSignature('eno-new', BODY), null), 'unsigned'],
  ])('refuses %s', async (_label, req, expected) => {
    expect(await reason(undefined, req)).toBe(expected);
  });

  it('fails closed without a configured secret', async () => {
    expect(await reason([], request(enosendSignature('eno-new', BODY)))).toBe('not_configured');
  });
});
