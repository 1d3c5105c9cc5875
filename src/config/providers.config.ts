import { registerAs } from '@nestjs/config';
import {
  ArrayNotEmpty,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { ToInt, ToList } from './transforms.js';
import { ConfigValidationError, validateEnv } from './validate-env.js';

export const PROVIDER_NAMES = ['dnz', 'enosend', 'sinch', 'meta', 'console'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

const SINCH_REGIONS = ['us', 'eu', 'br'] as const;
const url = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };
const uses = (o: ProvidersEnv, name: ProviderName) => o.OTP_PROVIDERS.includes(name);

class ProvidersEnv {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @ToList()
  @ArrayNotEmpty({ message: 'OTP_PROVIDERS must list at least one provider' })
  @IsIn(PROVIDER_NAMES, {
    each: true,
    message: 'OTP_PROVIDERS may only contain dnz, enosend, sinch, meta, console',
  })
  OTP_PROVIDERS: string[] = ['console'];

  @ToInt()
  @IsInt({ message: 'PROVIDER_TIMEOUT_MS must be an integer' })
  @Min(100, { message: 'PROVIDER_TIMEOUT_MS must be between 100 and 60000' })
  @Max(60000, { message: 'PROVIDER_TIMEOUT_MS must be between 100 and 60000' })
  PROVIDER_TIMEOUT_MS = 5000;

  // DNZ
  @ValidateIf((o: ProvidersEnv) => uses(o, 'dnz'))
  @IsUrl(url, { message: 'WHATSAPP_OTP_ENGINE_URL must be an http(s) URL' })
  WHATSAPP_OTP_ENGINE_URL?: string;

  @ValidateIf((o: ProvidersEnv) => uses(o, 'dnz'))
  @IsString({ message: 'WHATSAPP_OTP_API_KEY is required when OTP_PROVIDERS includes dnz' })
  WHATSAPP_OTP_API_KEY?: string;

  // EnoSend
  @IsOptional()
  @IsUrl(url, { message: 'ENOSEND_API_BASE must be an http(s) URL' })
  ENOSEND_API_BASE = 'https://api.enosend.com/v1';

  @ValidateIf((o: ProvidersEnv) => uses(o, 'enosend'))
  @IsString({ message: 'ENOSEND_INSTANCE_ID is required when OTP_PROVIDERS includes enosend' })
  ENOSEND_INSTANCE_ID?: string;

  @ValidateIf((o: ProvidersEnv) => uses(o, 'enosend'))
  @IsString({ message: 'ENOSEND_API_KEY is required when OTP_PROVIDERS includes enosend' })
  ENOSEND_API_KEY?: string;

  @ToInt()
  @IsInt({ message: 'ENOSEND_STATUS_POLL_MS must be an integer' })
  @Min(0, { message: 'ENOSEND_STATUS_POLL_MS must be between 0 and 60000' })
  @Max(60000, { message: 'ENOSEND_STATUS_POLL_MS must be between 0 and 60000' })
  ENOSEND_STATUS_POLL_MS = 10000;

  // Sinch Conversation API
  @ValidateIf((o: ProvidersEnv) => uses(o, 'sinch'))
  @IsString({ message: 'SINCH_PROJECT_ID is required when OTP_PROVIDERS includes sinch' })
  SINCH_PROJECT_ID?: string;

  @ValidateIf((o: ProvidersEnv) => uses(o, 'sinch'))
  @IsString({ message: 'SINCH_APP_ID is required when OTP_PROVIDERS includes sinch' })
  SINCH_APP_ID?: string;

  @ValidateIf((o: ProvidersEnv) => uses(o, 'sinch'))
  @IsString({ message: 'SINCH_KEY_ID is required when OTP_PROVIDERS includes sinch' })
  SINCH_KEY_ID?: string;

  @ValidateIf((o: ProvidersEnv) => uses(o, 'sinch'))
  @IsString({ message: 'SINCH_KEY_SECRET is required when OTP_PROVIDERS includes sinch' })
  SINCH_KEY_SECRET?: string;

  @IsIn(SINCH_REGIONS, { message: 'SINCH_REGION must be one of us, eu, br' })
  SINCH_REGION: (typeof SINCH_REGIONS)[number] = 'us';

  @ValidateIf((o: ProvidersEnv) => uses(o, 'sinch'))
  @IsString({ message: 'SINCH_TEMPLATE_ID is required when OTP_PROVIDERS includes sinch' })
  SINCH_TEMPLATE_ID?: string;

  @Matches(/^[a-z]{2,3}(_[A-Z]{2})?$/, { message: 'SINCH_TEMPLATE_LANGUAGE must look like en or en_US' })
  SINCH_TEMPLATE_LANGUAGE = 'en_US';

  @IsOptional()
  @IsUrl(url, { message: 'SINCH_API_BASE must be an http(s) URL' })
  SINCH_API_BASE?: string;

  @IsUrl(url, { message: 'SINCH_AUTH_URL must be an http(s) URL' })
  SINCH_AUTH_URL = 'https://auth.sinch.com/oauth2/token';

  // WhatsApp Cloud API (Meta). The webhook's META_APP_SECRET and META_WEBHOOK_VERIFY_TOKEN are in webhooks.config.ts.
  @IsUrl(url, { message: 'META_GRAPH_API_BASE must be an http(s) URL' })
  META_GRAPH_API_BASE = 'https://graph.facebook.com';

  @ValidateIf((o: ProvidersEnv) => uses(o, 'meta') || o.META_GRAPH_API_VERSION !== undefined)
  @Matches(/^v\d{1,3}\.\d{1,2}$/, {
    message: 'META_GRAPH_API_VERSION must look like v23.0 (required when OTP_PROVIDERS includes meta)',
  })
  META_GRAPH_API_VERSION?: string;

  @ValidateIf((o: ProvidersEnv) => uses(o, 'meta') || o.META_PHONE_NUMBER_ID !== undefined)
  @Matches(/^\d{1,32}$/, {
    message:
      'META_PHONE_NUMBER_ID must be the numeric phone number id (required when OTP_PROVIDERS includes meta)',
  })
  META_PHONE_NUMBER_ID?: string;

  @ValidateIf((o: ProvidersEnv) => uses(o, 'meta'))
  @Matches(/^\S{16,}$/, {
    message:
      'META_ACCESS_TOKEN is required when OTP_PROVIDERS includes meta (a System User token, no spaces)',
  })
  META_ACCESS_TOKEN?: string;

  @ValidateIf((o: ProvidersEnv) => uses(o, 'meta'))
  @Matches(/^[a-z0-9_]{1,512}$/, {
    message:
      'META_TEMPLATE_NAME must be the approved AUTHENTICATION template name (lower-case letters, digits, _; required when OTP_PROVIDERS includes meta)',
  })
  META_TEMPLATE_NAME?: string;

  @Matches(/^[a-z]{2,3}(_[A-Z]{2})?$/, { message: 'META_TEMPLATE_LANGUAGE must look like en or en_US' })
  META_TEMPLATE_LANGUAGE = 'en_US';
}

export const providersConfig = registerAs('providers', () => {
  const env = validateEnv(ProvidersEnv);
  if (env.NODE_ENV === 'production' && env.OTP_PROVIDERS.includes('console')) {
    // Guarded here as well as in the console provider: a production chain never prints codes.
    throw new ConfigValidationError(
      'Invalid configuration: OTP_PROVIDERS must not include console when NODE_ENV=production',
    );
  }
  return {
    chain: env.OTP_PROVIDERS as ProviderName[],
    timeoutMs: env.PROVIDER_TIMEOUT_MS,
    dnz: { baseUrl: env.WHATSAPP_OTP_ENGINE_URL ?? '', apiKey: env.WHATSAPP_OTP_API_KEY ?? '' },
    enosend: {
      baseUrl: env.ENOSEND_API_BASE.replace(/\/+$/, ''),
      instanceId: env.ENOSEND_INSTANCE_ID ?? '',
      apiKey: env.ENOSEND_API_KEY ?? '',
      statusPollMs: env.ENOSEND_STATUS_POLL_MS,
    },
    sinch: {
      projectId: env.SINCH_PROJECT_ID ?? '',
      appId: env.SINCH_APP_ID ?? '',
      keyId: env.SINCH_KEY_ID ?? '',
      keySecret: env.SINCH_KEY_SECRET ?? '',
      region: env.SINCH_REGION,
      templateId: env.SINCH_TEMPLATE_ID ?? '',
      templateLanguage: env.SINCH_TEMPLATE_LANGUAGE,
      apiBase: (env.SINCH_API_BASE ?? `https://${env.SINCH_REGION}.conversation.api.sinch.com`).replace(
        /\/+$/,
        '',
      ),
      authUrl: env.SINCH_AUTH_URL,
    },
    meta: {
      graphApiBase: env.META_GRAPH_API_BASE.replace(/\/+$/, ''),
      graphApiVersion: env.META_GRAPH_API_VERSION ?? '',
      phoneNumberId: env.META_PHONE_NUMBER_ID ?? '',
      accessToken: env.META_ACCESS_TOKEN ?? '',
      templateName: env.META_TEMPLATE_NAME ?? '',
      templateLanguage: env.META_TEMPLATE_LANGUAGE,
    },
  };
});
export type ProvidersConfig = ReturnType<typeof providersConfig>;
