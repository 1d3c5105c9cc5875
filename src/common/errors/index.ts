export * from './domain-error.js';
export * from './database-errors.js';
export * from './error-code.js';
export * from './all-exceptions.filter.js';
