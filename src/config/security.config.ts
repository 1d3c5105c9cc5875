import { registerAs } from '@nestjs/config';
import { IsBoolean, IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { NODE_ENVS, type NodeEnv } from './app.config.js';
import { productionConfigProblem } from './production-safety.js';
import { ToBoolean } from './transforms.js';
import { ConfigValidationError, validateEnv } from './validate-env.js';

class SecurityEnv {
  @IsIn(NODE_ENVS, { message: 'NODE_ENV must be one of development, production, test' })
  NODE_ENV: NodeEnv = 'development';

  /** /docs and /docs-json: on by default outside production, off in production unless true. */
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'DOCS_ENABLED must be true or false' })
  DOCS_ENABLED?: boolean;

  /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]+$/, { message: 'METRICS_TOKEN must be visible ASCII characters (no spaces)' })
  METRICS_TOKEN?: string;
}

/**
 * Exposure of the operator endpoints (/docs, /metrics) and, with NODE_ENV=production, the refusal
 * of unsafe secrets (src/config/production-safety.ts). Loaded last, after every other namespace
 * has validated its own variables.
 */
export const securityConfig = registerAs('security', () => {
  const env = validateEnv(SecurityEnv);
  const isProduction = env.NODE_ENV === 'production';
  if (isProduction) {
    const problem = productionConfigProblem(process.env);
    if (problem) throw new ConfigValidationError(`Invalid configuration: ${problem}`);
  }
  return {
    docsEnabled: env.DOCS_ENABLED ?? !isProduction,
    metricsToken: env.METRICS_TOKEN,
  };
});
export type SecurityConfig = ReturnType<typeof securityConfig>;
