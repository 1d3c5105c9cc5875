// webhooks/'s public surface: the module, its path (the raw-body parser's scope), and the
// provider-state reading the readiness probe uses.
export * from './enosend.health.js';
export * from './provider-state.repository.js';
export { WEBHOOKS_PATH } from './webhooks.controller.js';
export * from './webhooks.module.js';
