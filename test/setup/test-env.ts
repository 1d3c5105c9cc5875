import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Environment every test process starts from (test/setup/test-env.json; a test may override it). */
export const TEST_ENV: Record<string, string> = JSON.parse(
  readFileSync(join(process.cwd(), 'test', 'setup', 'test-env.json'), 'utf8'),
) as Record<string, string>;
