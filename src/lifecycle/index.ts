// lifecycle/'s public surface: the module and ShutdownService (SIGTERM drain).
export * from './lifecycle.module.js';
export * from './shutdown.service.js';
