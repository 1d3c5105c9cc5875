import { ERROR_CATALOGUE, type ErrorCode, errorExample, VERIFY_ANSWERS } from './error-code.js';

/**
 * docs/api.md's error table, row by row (code, status, message), from the catalogue: one row per
 * code, and one more per code that POST /v1/otp/verify answers otherwise. error-code.spec.ts
 * checks the document against it.
 */
export function errorTableRows(): [string, string, string][] {
  const rows: [string, string, string][] = [];
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const example = errorExample(code);
    rows.push([`\`${code}\``, String(example.statusCode), example.message]);
    if (VERIFY_ANSWERS.overrides[code]) {
      const onVerify = errorExample(code, VERIFY_ANSWERS);
      rows.push([`\`${code}\` (verify)`, String(onVerify.statusCode), onVerify.message]);
    }
  }
  return rows;
}

/** The table as Markdown (`npm run format` aligns it; the check compares cells, not spacing). */
export function renderErrorTable(): string {
  const lines = [['code', 'status', 'message'], ['---', '---', '---'], ...errorTableRows()];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
