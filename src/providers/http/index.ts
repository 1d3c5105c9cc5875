/**
 * The providers' HTTP toolkit, by concern: the client (keep-alive, deadlines, abort: client.ts),
 * reading answers (body.ts), error codes that can never carry free text (redaction.ts), Retry-After
 * (retry-after.ts), and turning statuses and transport failures into ProviderErrors (errors.ts).
 */
export { abortable, abortedError } from './abort.js';
export { isRecord, joinUrl } from './body.js';
export { ProviderHttpClient, type ProviderRequest, type ProviderResponse } from './client.js';
export { httpError, invalidResponse, kindOfStatus } from './errors.js';
export { errorCodeOf } from './redaction.js';
