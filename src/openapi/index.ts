// openapi/'s public surface: the document's set-up and the decorators controllers describe their
// answers with.
export * from './api-errors.decorator.js';
export * from './error.response.js';
export * from './openapi.js';
export * from './webhook-bodies.js';
