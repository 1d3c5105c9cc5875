// common/'s public surface: building blocks every module may use (errors and the exception filter,
// crypto primitives, the clock, phone numbers, HTTP helpers). common/ imports no other module.
export * from './clock/clock.js';
export * from './crypto/index.js';
export * from './errors/index.js';
export * from './http/client-ip.js';
export * from './http/content-type.js';
export * from './http/method-not-allowed.js';
export * from './http/request-id.js';
export * from './http/validation.pipe.js';
export * from './phone/phone.js';
