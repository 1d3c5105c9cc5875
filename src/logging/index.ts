// logging/'s public surface: the pino logging module.
export * from './logging.module.js';
