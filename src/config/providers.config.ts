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

export const PROVIDER_NAMES = ['dnz', 'enosend', 'sinch', 'console'] as const;
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
    message: 'OTP_PROVIDERS may only contain dnz, enosend, sinch, console',
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
  };
});
export type ProvidersConfig = ReturnType<typeof providersConfig>;
