import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { providersConfig, type ProvidersConfig } from '../config/index.js';
import { startDnzFake } from '../../test/fakes/dnz.fake.js';
import { startEnoSendFake } from '../../test/fakes/enosend.fake.js';
import { type SinchFake, startSinchFake } from '../../test/fakes/sinch.fake.js';
import { startMetaFake } from '../../test/fakes/meta.fake.js';
import { providerEnvFor, providersConfigFor } from '../../test/fakes/providers-config.js';
import { ConsoleProvider } from './console/console.provider.js';
import { DnzProvider } from './dnz/dnz.provider.js';
import { EnoSendProvider } from './enosend/enosend.provider.js';
import { WHATSAPP_PROVIDERS, type WhatsAppProvider } from './provider.interface.js';
import { createWhatsAppProviders, ProvidersModule } from './providers.module.js';
import { SinchProvider } from './sinch/sinch.provider.js';

const configWith = (chain: ProvidersConfig['chain']): ProvidersConfig => ({
  ...providersConfigFor({}),
  chain,
});

describe('createWhatsAppProviders', () => {
  const originalEnv = process.env.NODE_ENV;
  let built: WhatsAppProvider[] = [];
  afterEach(() => {
    process.env.NODE_ENV = originalEnv;
    built.forEach((p) => p.close?.());
    built = [];
  });

  it('builds the providers of the chain, in chain order, and only those', () => {
    built = createWhatsAppProviders(configWith(['sinch', 'dnz', 'enosend']));

    expect(built.map((p) => p.name)).toEqual(['sinch', 'dnz', 'enosend']);
    expect(built[0]).toBeInstanceOf(SinchProvider);
    expect(built[1]).toBeInstanceOf(DnzProvider);
    expect(built[2]).toBeInstanceOf(EnoSendProvider);
  });

  it('builds a provider listed twice once', () => {
    built = createWhatsAppProviders(configWith(['console', 'dnz', 'console']));

    expect(built.map((p) => p.name)).toEqual(['console', 'dnz']);
    expect(built[0]).toBeInstanceOf(ConsoleProvider);
  });

  it('never constructs the console provider in production unless it is in the chain', () => {
    process.env.NODE_ENV = 'production';

    built = createWhatsAppProviders(configWith(['enosend', 'dnz']));

    expect(built.map((p) => p.name)).toEqual(['enosend', 'dnz']);
    expect(() => createWhatsAppProviders(configWith(['dnz', 'console']))).toThrow(/development only/);
  });
});

describe('ProvidersModule', () => {
  let fake: SinchFake;
  beforeAll(async () => {
    fake = await startSinchFake();
  });
  afterAll(() => fake.close());

  it('provides WHATSAPP_PROVIDERS in chain order, working over HTTP, and closes them at shutdown', async () => {
    const config = providersConfigFor({ sinch: fake }, { chain: ['sinch', 'console'] });
    @Global()
    @Module({
      providers: [{ provide: providersConfig.KEY, useValue: config }],
      exports: [providersConfig.KEY],
    })
    class FakeConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [FakeConfigModule, ProvidersModule],
    }).compile();
    const app = await moduleRef.init();

    const sut = app.get<WhatsAppProvider[]>(WHATSAPP_PROVIDERS);
    const result = await sut[0].send({ codeId: 'c', phone: '+233200000000', code: '111222', ttlMinutes: 5 });
    const closed: string[] = [];
    sut.forEach((p) => {
      const close = p.close?.bind(p);
      p.close = () => {
        closed.push(p.name);
        close?.();
      };
    });
    await app.close();

    expect(sut.map((p) => p.name)).toEqual(['sinch', 'console']);
    expect(result.providerMessageId).toBe('sinch-msg-1');
    expect(closed).toEqual(['sinch', 'console']);
  });

  it('lets each provider class be resolved by Nest DI on its own (options are optional)', async () => {
    const config = providersConfigFor({ sinch: fake });
    @Global()
    @Module({
      providers: [{ provide: providersConfig.KEY, useValue: config }],
      exports: [providersConfig.KEY],
    })
    class FakeConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [FakeConfigModule],
      providers: [DnzProvider, EnoSendProvider, SinchProvider, ConsoleProvider],
    }).compile();

    const types = [DnzProvider, EnoSendProvider, SinchProvider, ConsoleProvider];
    const sut = types.map((type): WhatsAppProvider => moduleRef.get(type));
    const result = await moduleRef
      .get(SinchProvider)
      .send({ codeId: 'c', phone: '+233200000000', code: '333444', ttlMinutes: 5 });
    sut.forEach((p) => p.close?.());
    await moduleRef.close();

    expect(sut.map((p) => p.name)).toEqual(['dnz', 'enosend', 'sinch', 'console']);
    expect(result.providerStatus).toBe('accepted');
  });
});

describe('fake configuration helpers', () => {
  it('providerEnvFor yields variables that the real providersConfig turns into providersConfigFor', async () => {
    const fakes = {
      dnz: await startDnzFake(),
      enosend: await startEnoSendFake(),
      sinch: await startSinchFake(),
      meta: await startMetaFake(),
    };
    const saved = { ...process.env };
    try {
      const options = {
        chain: ['meta', 'sinch', 'enosend', 'dnz'] as const,
        timeoutMs: 700,
        statusPollMs: 900,
      };
      Object.assign(
        process.env,
        { NODE_ENV: 'test' },
        providerEnvFor(fakes, { ...options, chain: [...options.chain] }),
      );

      const sut = providersConfig();

      expect(sut).toEqual(providersConfigFor(fakes, { ...options, chain: [...options.chain] }));
    } finally {
      process.env = saved;
      await Promise.all(Object.values(fakes).map((fake) => fake.close()));
    }
  });
});
