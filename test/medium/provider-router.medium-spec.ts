import { ProviderRouter } from '../../src/delivery/provider-router.js';
import { ProviderError } from '../../src/providers/provider.error.js';
import type { WhatsAppProvider } from '../../src/providers/provider.interface.js';
import { type DnzAndEnoSend, type DnzFake, startDnzAndEnoSend } from '../fakes/index.js';
import { startContext, type TestContext } from '../helpers/context.js';
import { uniquePhone } from '../helpers/db.js';

/**
 * ProviderRouter as the app builds it (OTP_PROVIDERS, DELIVERY_* settings) over real providers
 * talking HTTP to local fakes: chain order, fallbacks, retries and per-provider circuit breakers.
 */
describe('ProviderRouter (medium: real providers over HTTP)', () => {
  const OPEN_MS = 400;
  let fakes: DnzAndEnoSend;
  let dnz: DnzFake;
  let t: TestContext;
  let router: ProviderRouter;

  beforeAll(async () => {
    fakes = await startDnzAndEnoSend();
    ({ dnz } = fakes);
    t = await startContext({
      env: {
        // Configured order, not the fakes' default order.
        ...fakes.env({ chain: ['enosend', 'dnz'], timeoutMs: 400 }),
        DELIVERY_RETRIES: '1',
        DELIVERY_RETRY_BASE_MS: '10',
        DELIVERY_CIRCUIT_THRESHOLD: '2',
        DELIVERY_CIRCUIT_OPEN_MS: String(OPEN_MS),
      },
    });
    router = t.get(ProviderRouter);
  });
  afterAll(async () => {
    await t?.close();
    await fakes?.close();
  });
  beforeEach(() => {
    fakes.reset();
  });

  const provider = (name: string) => router.chain.find((p) => p.name === name) as WhatsAppProvider;
  const send = (p: WhatsAppProvider) =>
    router.execute(p, (signal) =>
      p.send({ codeId: crypto.randomUUID(), phone: uniquePhone(), code: '482913', ttlMinutes: 5 }, signal),
    );
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error,
    );

  it('keeps the configured chain order; after() gives the fallbacks of a provider', () => {
    expect(router.chain.map((p) => p.name)).toEqual(['enosend', 'dnz']);
    expect(router.after().map((p) => p.name)).toEqual(['enosend', 'dnz']);
    expect(router.after('enosend').map((p) => p.name)).toEqual(['dnz']);
    expect(router.after('dnz')).toEqual([]);
    // A provider no longer configured (a job queued before a change): the whole chain.
    expect(router.after('sinch').map((p) => p.name)).toEqual(['enosend', 'dnz']);
  });

  it('retries a retryable failure and answers with the retry that worked', async () => {
    dnz.queue('send_otp_failed');
    await expect(send(provider('dnz'))).resolves.toMatchObject({ providerMessageId: expect.any(String) });
    expect(dnz.requests).toHaveLength(2);
  });

  it('does not retry a configuration error (wrong key)', async () => {
    dnz.behave('invalid_api_key');
    const error = await failure(send(provider('dnz')));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: 'dnz', kind: 'configuration' });
    expect(dnz.requests).toHaveLength(1);
  });

  it("opens a provider's circuit after consecutive failures, only that provider's, and closes it after a good trial", async () => {
    dnz.behave('unavailable');
    // One call, two tries (DELIVERY_RETRIES=1): the threshold (2) is reached.
    expect(await failure(send(provider('dnz')))).toMatchObject({ kind: 'retryable' });
    expect(dnz.requests).toHaveLength(2);
    const open = await failure(send(provider('dnz')));
    expect(ProviderRouter.isOpenCircuit(open)).toBe(true);
    expect(dnz.requests).toHaveLength(2); // the open circuit did not call the provider
    // The other provider's breaker is its own.
    await expect(send(provider('enosend'))).resolves.toMatchObject({ providerMessageId: expect.any(String) });
    // After DELIVERY_CIRCUIT_OPEN_MS one trial call goes through; it works, so the circuit closes.
    dnz.behave('ok');
    await new Promise((r) => setTimeout(r, OPEN_MS + 100));
    await expect(send(provider('dnz'))).resolves.toMatchObject({ providerMessageId: expect.any(String) });
    await expect(send(provider('dnz'))).resolves.toMatchObject({ providerMessageId: expect.any(String) });
    expect(dnz.requests).toHaveLength(4);
  });
});
