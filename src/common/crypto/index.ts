export * from './code-hasher.js';
export * from './payload-cipher.js';
export * from './secret-keys.js';
