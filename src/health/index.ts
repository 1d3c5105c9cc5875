// health/'s public surface: the module (GET /health/live, /health/ready).
export * from './health.module.js';
