import { appConfig } from './app.config.js';
import { databaseConfig } from './database.config.js';
import { otpConfig } from './otp.config.js';
import { providersConfig } from './providers.config.js';

/** Every configuration namespace, loaded (and validated) by ConfigModule at boot. */
export const configNamespaces = [appConfig, databaseConfig, otpConfig, providersConfig];

export * from './app.config.js';
export * from './database.config.js';
export * from './otp.config.js';
export * from './providers.config.js';
export { ConfigValidationError } from './validate-env.js';
