import { registerAs } from '@nestjs/config';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { parseTrustProxy, type TrustProxy, TrustProxyError } from '../common/index.js';
import { IntRange } from './transforms.js';
import { ConfigValidationError, validateEnv } from './validate-env.js';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

class AppEnv {
  @IsIn(NODE_ENVS, { message: 'NODE_ENV must be one of development, production, test' })
  NODE_ENV: NodeEnv = 'development';

  @IntRange(0, 65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
  })
  LOG_LEVEL = 'info';

  /** false, a hop count (1-10) or comma-separated CIDRs: parsed by parseTrustProxy (API.md A3). */
  @IsOptional()
  @IsString({ message: 'TRUST_PROXY must be false, a hop count or comma-separated CIDRs' })
  TRUST_PROXY?: string;

  @IntRange(1024, 1048576)
  BODY_LIMIT_BYTES = 16384;

  @IntRange(1000)
  REQUEST_TIMEOUT_MS = 10000;

  @IntRange(0, 60000)
  SHUTDOWN_DELAY_MS = 0;

  @Matches(/^\s*[A-Za-z0-9_.-]+:[^,\s]{16,}\s*(,\s*[A-Za-z0-9_.-]+:[^,\s]{16,}\s*)*$/, {
    message: 'CLIENT_API_KEYS must be comma-separated name:secret pairs, each secret at least 16 characters',
  })
  CLIENT_API_KEYS!: string;
}

export interface ApiClient {
  name: string;
  secret: string;
}

function trustProxyOf(value: string | undefined): TrustProxy {
  try {
    return parseTrustProxy(value);
  } catch (error) {
    if (error instanceof TrustProxyError)
      throw new ConfigValidationError(`Invalid configuration: ${error.message}`);
    throw error;
  }
}

export const appConfig = registerAs('app', () => {
  const env = validateEnv(AppEnv);
  const clients: ApiClient[] = env.CLIENT_API_KEYS.split(',').map((pair) => {
    const [name, ...rest] = pair.trim().split(':');
    return { name, secret: rest.join(':') };
  });
  return {
    nodeEnv: env.NODE_ENV,
    isProduction: env.NODE_ENV === 'production',
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    trustProxy: trustProxyOf(env.TRUST_PROXY),
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    clients,
  };
});
export type AppConfig = ReturnType<typeof appConfig>;
