// auth/'s public surface: the API-key guard of the OTP endpoints and the bearer guard of GET /metrics.
export * from './api-key.guard.js';
export * from './metrics-token.guard.js';
