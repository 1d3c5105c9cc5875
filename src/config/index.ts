import { appConfig } from './app.config.js';
import { databaseConfig } from './database.config.js';
import { deliveryConfig } from './delivery.config.js';
import { otpConfig } from './otp.config.js';
import { providersConfig } from './providers.config.js';
import { securityConfig } from './security.config.js';
import { throttleConfig } from './throttle.config.js';
import { webhooksConfig } from './webhooks.config.js';

/** Every configuration namespace, loaded (and validated) by ConfigModule at boot. */
export const configNamespaces = [
  appConfig,
  databaseConfig,
  deliveryConfig,
  otpConfig,
  providersConfig,
  throttleConfig,
  webhooksConfig,
  // Last: production's refusal of unsafe secrets runs once every variable is known to be well-formed.
  securityConfig,
];

export * from './app.config.js';
export * from './database.config.js';
export * from './delivery.config.js';
export * from './otp.config.js';
export * from './providers.config.js';
export * from './security.config.js';
export * from './throttle.config.js';
export * from './webhooks.config.js';
export { ConfigValidationError } from './validate-env.js';
