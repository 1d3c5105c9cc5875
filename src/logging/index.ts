// logging/'s public surface: the pino logging module.
export * from './logging.module.js';
export { CENSOR, censorSecrets, REDACT_PATHS, SECRET_KEYS } from './redaction.js';
