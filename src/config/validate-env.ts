import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

/** Thrown at boot when a variable is missing or invalid; main.ts prints its message as one line. */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
}

/**
 * Validates the environment against a class-validator class. Values arrive as strings; the class
 * converts them with class-transformer (`@Type`, `@Transform`). The first problem found stops
 * start-up with one line naming the variable, never its value (it may be a secret).
 */
export function validateEnv<T extends object>(cls: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const instance = plainToInstance(cls, present, { exposeDefaultValues: true });
  const errors = validateSync(instance, { skipMissingProperties: false, forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new ConfigValidationError(`Invalid configuration: ${describe(errors[0])}`);
  }
  return instance;
}

function describe(error: ValidationError): string {
  const messages = Object.values(error.constraints ?? {});
  return messages[0] ?? `${error.property} is invalid`;
}
