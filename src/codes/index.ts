// The code core's public surface: generation, keyed hashing and payload encryption, purposes, test
// numbers. Other modules import codes/ only through this file.
export * from './code-generator.js';
export * from './codes.module.js';
export * from './one-time-codes.repository.js';
export * from './otp.crypto.js';
export * from './purpose.js';
export * from './test-numbers.js';
