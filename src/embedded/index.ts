// embedded/'s public surface: embedded mode (PostgreSQL as a child process, .data/ secrets).
export * from './embedded-mode.js';
export * from './embedded-postgres.js';
