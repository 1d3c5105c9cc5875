// providers/'s public surface: the module, the WhatsAppProvider interface and its errors, and
// Meta's error classification (shared with its webhook).
export * from './meta/meta-errors.js';
export * from './provider.error.js';
export * from './provider.interface.js';
export * from './providers.module.js';
