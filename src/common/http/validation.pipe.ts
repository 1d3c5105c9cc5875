import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiException } from '../errors/api.exception.js';

/**
 * Strict validation for every body: unknown fields are refused, types are checked, and the answer is
 * `400 invalid_request` with a field → message map in `details`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors: ValidationError[]) =>
      new ApiException('invalid_request', 'Request validation failed', { details: flatten(errors) }),
  });
}

function flatten(errors: ValidationError[], prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const message = Object.values(error.constraints ?? {})[0];
    if (message) out[path] = message;
    if (error.children?.length) Object.assign(out, flatten(error.children, path));
  }
  return out;
}
