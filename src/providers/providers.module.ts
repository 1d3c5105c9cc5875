import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { providersConfig, type ProviderName, type ProvidersConfig } from '../config/index.js';
import { ConsoleProvider, type ConsoleOptions } from './console/console.provider.js';
import { DnzProvider } from './dnz/dnz.provider.js';
import { EnoSendProvider, type EnoSendOptions } from './enosend/enosend.provider.js';
import { MetaProvider } from './meta/meta.provider.js';
import { WHATSAPP_PROVIDERS, type WhatsAppProvider } from './provider.interface.js';
import { SinchProvider, type SinchOptions } from './sinch/sinch.provider.js';

/** Test and benchmark knobs; production passes none. */
export interface ProvidersOptions {
  enosend?: EnoSendOptions;
  sinch?: SinchOptions;
  console?: ConsoleOptions;
}

/**
 * The providers of `config.chain`, in chain order. Only those are constructed: a provider that is
 * not configured never opens a socket, and the console provider never exists in production.
 */
export function createWhatsAppProviders(
  config: ProvidersConfig,
  options: ProvidersOptions = {},
): WhatsAppProvider[] {
  const build: Record<ProviderName, () => WhatsAppProvider> = {
    dnz: () => new DnzProvider(config),
    enosend: () => new EnoSendProvider(config, options.enosend),
    sinch: () => new SinchProvider(config, options.sinch),
    meta: () => new MetaProvider(config),
    console: () => new ConsoleProvider(options.console),
  };
  const chain = [...new Set(config.chain)];
  return chain.map((name) => build[name]());
}

/** Provides WHATSAPP_PROVIDERS (WhatsAppProvider[], in OTP_PROVIDERS order) and closes them at shutdown. */
@Module({
  providers: [
    {
      provide: WHATSAPP_PROVIDERS,
      useFactory: (config: ProvidersConfig) => createWhatsAppProviders(config),
      inject: [providersConfig.KEY],
    },
  ],
  exports: [WHATSAPP_PROVIDERS],
})
export class ProvidersModule implements OnApplicationShutdown {
  constructor(@Inject(WHATSAPP_PROVIDERS) private readonly providers: WhatsAppProvider[]) {}

  onApplicationShutdown(): void {
    for (const provider of this.providers) provider.close?.();
  }
}
