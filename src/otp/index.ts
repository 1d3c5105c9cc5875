// otp/'s public surface: the module (POST /v1/otp/send, /v1/otp/verify, GET /v1/otp/:id).
export * from './otp.module.js';
