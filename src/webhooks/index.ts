// webhooks/'s public surface: the module, its path (the raw-body parser's scope), and the
// provider states (provider_states) the readiness probe reads.
export { WEBHOOKS_PATH } from './webhooks.controller.js';
export * from './webhooks.module.js';
