// metrics/'s public surface: the global Prometheus registry every module updates, and its module.
export * from './metrics.module.js';
export * from './metrics.service.js';
