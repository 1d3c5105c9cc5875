import type { EnoSendWebhookService } from './enosend-webhook.service.js';
import type { SinchWebhookService } from './sinch-webhook.service.js';
import type { WebhookReceiptsService } from './webhook-receipts.service.js';
import type { WebhookRequest } from './webhook-request.js';
import { WebhooksController } from './webhooks.controller.js';

describe('WebhooksController', () => {
  const released: string[] = [];
  let handle: (body: unknown) => Promise<string>;
  const sinch = { handle: (body: unknown) => handle(body) } as unknown as SinchWebhookService;
  const enosend = { handle: () => Promise.resolve('ignored') } as unknown as EnoSendWebhookService;
  const receipts = {
    release: (provider: string, kind: string, value: string) => {
      released.push(`${provider}/${kind}/${value}`);
      return Promise.resolve();
    },
  } as unknown as WebhookReceiptsService;
  const sut = new WebhooksController(sinch, enosend, receipts);
  const request = { body: { x: 1 }, webhookNonce: 'n-1' } as unknown as WebhookRequest;

  beforeEach(() => {
    released.length = 0;
  });

  it('acknowledges a handled callback and keeps its nonce', async () => {
    handle = () => Promise.resolve('delivery_report');
    await expect(sut.sinchCallback(request)).resolves.toEqual({ received: true });
    expect(released).toEqual([]);
  });

  it('releases the nonce when processing fails, so the provider can retry', async () => {
    const failure = new Error('database unavailable');
    handle = () => Promise.reject(failure);
    await expect(sut.sinchCallback(request)).rejects.toBe(failure);
    expect(released).toEqual(['sinch/nonce/n-1']);
  });

  it('acknowledges EnoSend callbacks, including ignored ones', async () => {
    await expect(sut.enosendCallback(request)).resolves.toEqual({ received: true });
  });
});
