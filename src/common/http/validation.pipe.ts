import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiException } from '../errors/api.exception.js';

/**
 * Deepest nesting of objects and arrays a body may have. The DTOs are flat; class-transformer
 * recurses through whatever arrives (even fields that validation then refuses), so a body of a
 * few kilobytes like `{"a":[[[[…]]]]}` 1,500 levels deep overflowed the stack and became a 500.
 */
export const MAX_BODY_DEPTH = 32;

/** True when `value` nests objects/arrays deeper than `max`. Iterative: no recursion to overflow. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && nestedDeeperThan(value, MAX_BODY_DEPTH)) {
      throw new ApiException('invalid_request', 'Request validation failed', {
        details: { body: `must not nest objects or arrays deeper than ${MAX_BODY_DEPTH} levels` },
      });
    }
    return super.transform(value, metadata);
  }
}

/**
 * Strict validation for every body: unknown fields are refused, types are checked, and the answer is
 * `400 invalid_request` with a field → message map in `details`.
 */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
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
