import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError } from '../errors/domain-error.js';

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
    if (
      metadata.type === 'body' &&
      value !== undefined &&
      (typeof value !== 'object' || Array.isArray(value))
    ) {
      // `5`, `"x"`, `null` or `[…]`: class-transformer would turn an array into an object keyed 0, 1…
      throw new DomainError('invalid_request', {
        details: { body: 'must be a JSON object' },
      });
    }
    if (metadata.type === 'body' && nestedDeeperThan(value, MAX_BODY_DEPTH)) {
      throw new DomainError('invalid_request', {
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
    // Every failed constraint of a field is collected, and messageOf picks the one that names
    // what is actually wrong (missing, then wrong type, then content). The values are read only
    // to tell "missing" apart; they never reach a message or a log.
    validationError: { target: false, value: true },
    exceptionFactory: (errors: ValidationError[]) =>
      new DomainError('invalid_request', { details: flatten(errors) }),
  });
}

/** Constraints that check a field's type: reported before constraints on its content. */
const TYPE_CONSTRAINTS = new Set([
  'isString',
  'isNumber',
  'isInt',
  'isBoolean',
  'isObject',
  'isArray',
  'isDefined',
  'isEnum',
]);

/** The one message of a field: missing, else wrong type, else empty, else the first content rule. */
export function messageOf(error: ValidationError, path: string): string | undefined {
  const constraints = error.constraints ?? {};
  const names = Object.keys(constraints);
  if (names.length === 0) return undefined;
  if (names.includes('whitelistValidation')) return constraints.whitelistValidation;
  if (error.value === undefined || error.value === null) return `${path} is required`;
  const type = names.find((n) => TYPE_CONSTRAINTS.has(n));
  if (type) return constraints[type];
  return constraints.isNotEmpty ?? constraints[names[0]];
}

function flatten(errors: ValidationError[], prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const message = messageOf(error, path);
    if (message) out[path] = message;
    if (error.children?.length) Object.assign(out, flatten(error.children, path));
  }
  return out;
}
