import type { ProviderName, ProvidersConfig } from '../../src/config/index.js';
import type { DnzFake } from './dnz.fake.js';
import type { EnoSendFake } from './enosend.fake.js';
import type { MetaFake } from './meta.fake.js';
import type { SinchFake } from './sinch.fake.js';

export interface ProviderFakes {
  dnz?: DnzFake;
  enosend?: EnoSendFake;
  sinch?: SinchFake;
  meta?: MetaFake;
}

export interface FakeConfigOptions {
  /** Default: the fakes given, in the order dnz, enosend, sinch, meta. */
  chain?: ProviderName[];
  /** PROVIDER_TIMEOUT_MS (default 1000). */
  timeoutMs?: number;
  /** ENOSEND_STATUS_POLL_MS (default 1000). */
  statusPollMs?: number;
  /** SINCH_TEMPLATE_LANGUAGE (default en_US). */
  templateLanguage?: string;
}

const ORDER = ['dnz', 'enosend', 'sinch', 'meta'] as const;

function chainOf(fakes: ProviderFakes, options: FakeConfigOptions): ProviderName[] {
  return options.chain ?? ORDER.filter((name) => fakes[name] !== undefined);
}

/** A ProvidersConfig pointing at the given fakes (for unit specs and benchmarks). */
export function providersConfigFor(fakes: ProviderFakes, options: FakeConfigOptions = {}): ProvidersConfig {
  const { dnz, enosend, sinch, meta } = fakes;
  return {
    chain: chainOf(fakes, options),
    timeoutMs: options.timeoutMs ?? 1000,
    dnz: { baseUrl: dnz?.url ?? '', apiKey: dnz?.apiKey ?? '' },
    enosend: {
      baseUrl: enosend?.url ?? '',
      instanceId: enosend?.instanceId ?? '',
      apiKey: enosend?.apiKey ?? '',
      statusPollMs: options.statusPollMs ?? 1000,
    },
    sinch: {
      projectId: sinch?.projectId ?? '',
      appId: sinch?.appId ?? '',
      keyId: sinch?.keyId ?? '',
      keySecret: sinch?.keySecret ?? '',
      region: 'us',
      templateId: sinch?.templateId ?? '',
      templateLanguage: options.templateLanguage ?? 'en_US',
      apiBase: sinch?.url ?? '',
      authUrl: sinch?.authUrl ?? '',
    },
    meta: {
      graphApiBase: meta?.url ?? 'https://graph.facebook.com',
      graphApiVersion: meta?.version ?? '',
      phoneNumberId: meta?.phoneNumberId ?? '',
      accessToken: meta?.accessToken ?? '',
      templateName: meta?.templateName ?? '',
      templateLanguage: meta?.templateLanguage ?? 'en_US',
    },
  };
}

/** The environment variables that make the app's providersConfig point at the given fakes (e2e). */
export function providerEnvFor(
  fakes: ProviderFakes,
  options: FakeConfigOptions = {},
): Record<string, string> {
  const env: Record<string, string> = {
    OTP_PROVIDERS: chainOf(fakes, options).join(','),
    PROVIDER_TIMEOUT_MS: String(options.timeoutMs ?? 1000),
  };
  if (fakes.dnz) {
    env.WHATSAPP_OTP_ENGINE_URL = fakes.dnz.url;
    env.WHATSAPP_OTP_API_KEY = fakes.dnz.apiKey;
  }
  if (fakes.enosend) {
    env.ENOSEND_API_BASE = fakes.enosend.url;
    env.ENOSEND_INSTANCE_ID = fakes.enosend.instanceId;
    env.ENOSEND_API_KEY = fakes.enosend.apiKey;
    env.ENOSEND_STATUS_POLL_MS = String(options.statusPollMs ?? 1000);
  }
  if (fakes.sinch) {
    Object.assign(env, {
      SINCH_PROJECT_ID: fakes.sinch.projectId,
      SINCH_APP_ID: fakes.sinch.appId,
      SINCH_KEY_ID: fakes.sinch.keyId,
      SINCH_KEY_SECRET: fakes.sinch.keySecret,
      SINCH_TEMPLATE_ID: fakes.sinch.templateId,
      SINCH_TEMPLATE_LANGUAGE: options.templateLanguage ?? 'en_US',
      SINCH_API_BASE: fakes.sinch.url,
      SINCH_AUTH_URL: fakes.sinch.authUrl,
    });
  }
  if (fakes.meta) {
    Object.assign(env, {
      META_GRAPH_API_BASE: fakes.meta.url,
      META_GRAPH_API_VERSION: fakes.meta.version,
      META_PHONE_NUMBER_ID: fakes.meta.phoneNumberId,
      META_ACCESS_TOKEN: fakes.meta.accessToken,
      META_TEMPLATE_NAME: fakes.meta.templateName,
      META_TEMPLATE_LANGUAGE: fakes.meta.templateLanguage,
    });
  }
  return env;
}
