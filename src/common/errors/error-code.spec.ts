import fs from 'node:fs';
import path from 'node:path';
import { answerOf } from './all-exceptions.filter.js';
import { DomainError } from './domain-error.js';
import {
  ERROR_CATALOGUE,
  ERROR_STATUS,
  type ErrorCode,
  errorExample,
  errorMessage,
  isVerifyOutcome,
  VERIFY_ANSWERS,
  VERIFY_OUTCOMES,
} from './error-code.js';
import { errorTableRows } from './error-table.js';

const root = process.cwd();
const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** The cells of docs/api.md's error table (between its markers), row by row. */
function documentedRows(): string[][] {
  const api = fs.readFileSync(path.join(root, 'docs/api.md'), 'utf8');
  const section = /<!-- error-catalogue:start -->([\s\S]*?)<!-- error-catalogue:end -->/.exec(api);
  if (!section) throw new Error('docs/api.md has no error-catalogue section');
  return section[1]
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
    .filter((cells) => !cells.every((cell) => /^-+$/.test(cell)))
    .slice(1);
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return file.endsWith('.ts') && !file.endsWith('.spec.ts') ? [file] : [];
  });
}

describe('the error catalogue', () => {
  it('is what docs/api.md documents: every code, its status and its message', () => {
    expect(documentedRows()).toEqual(errorTableRows());
  });

  it('answers every code with its catalogue status and message, as its documented example shows', () => {
    for (const code of codes) {
      const { status, body } = answerOf(new DomainError(code));
      const example = errorExample(code);
      expect([code, status, body.message]).toEqual([code, ERROR_STATUS[code], errorMessage(code)]);
      expect([code, example.statusCode, example.code]).toEqual([code, status, code]);
      if (!('params' in ERROR_CATALOGUE[code])) expect([code, example.message]).toEqual([code, body.message]);
    }
    // A message with a placeholder: the thrower fills it in, the example shows it filled.
    const { body } = answerOf(new DomainError('method_not_allowed', { params: { allow: 'POST' } }));
    expect(body).toEqual(errorExample('method_not_allowed'));
  });

  it('answers verify outcomes as POST /v1/otp/verify documents them', () => {
    for (const code of VERIFY_OUTCOMES) {
      const { status, body } = answerOf(new DomainError(code), VERIFY_ANSWERS);
      expect(body).toMatchObject({ verified: false, code, statusCode: status });
      expect(errorExample(code, VERIFY_ANSWERS)).toMatchObject({ verified: false, statusCode: status });
    }
    expect(answerOf(new DomainError('not_found'), VERIFY_ANSWERS)).toEqual({
      status: 400,
      headers: {},
      body: {
        verified: false,
        statusCode: 400,
        code: 'not_found',
        message: 'No pending code for this phone and purpose',
      },
    });
    // Elsewhere not_found is a 404 without `verified`, and other codes keep their own answer.
    expect(answerOf(new DomainError('not_found')).body).toEqual({
      statusCode: 404,
      code: 'not_found',
      message: 'No verification with this id',
    });
    expect(answerOf(new DomainError('invalid_phone'), VERIFY_ANSWERS).body).not.toHaveProperty('verified');
    expect(isVerifyOutcome('rate_limited')).toBe(false);
  });

  it('maps the data of a domain error to the body and headers, field order included', () => {
    const wrong = answerOf(new DomainError('invalid_code', { attemptsRemaining: 2 }), VERIFY_ANSWERS);
    expect(JSON.stringify(wrong.body)).toBe(
      '{"verified":false,"attemptsRemaining":2,"statusCode":400,"code":"invalid_code","message":"The code is not correct"}',
    );
    const locked = answerOf(
      new DomainError('too_many_failures', { retryAfterSeconds: 60, details: { retryAfterSeconds: 60 } }),
    );
    expect(locked).toEqual({
      status: 429,
      headers: { 'retry-after': '60' },
      body: {
        statusCode: 429,
        code: 'too_many_failures',
        message: 'Too many wrong codes for this number; retry later',
        details: { retryAfterSeconds: 60 },
      },
    });
    expect(answerOf(new DomainError('unauthorized')).headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(new DomainError('unauthorized', { message: 'metricsToken' }).message).toBe(
      'Missing or invalid metrics token',
    );
  });

  it('is the only place a message is written: no source file repeats one', () => {
    const messages = codes.flatMap((code) => {
      const entry: { message: string; messages?: Record<string, string> } = ERROR_CATALOGUE[code];
      return [entry.message, ...Object.values(entry.messages ?? {})].map((m) => m.split('{')[0]);
    });
    messages.push(VERIFY_ANSWERS.overrides.not_found?.message ?? '');
    const catalogue = path.join(root, 'src/common/errors/error-code.ts');
    const repeats: string[] = [];
    for (const file of sourceFiles(path.join(root, 'src')).filter((f) => f !== catalogue)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const message of messages) {
        if (text.includes(`'${message}`) || text.includes(`\`${message}`)) {
          repeats.push(`${path.relative(root, file)}: ${message}`);
        }
      }
    }
    expect(repeats).toEqual([]);
    expect(errorMessage('method_not_allowed', undefined, { allow: 'GET, HEAD' })).toBe(
      'Method not allowed; use GET, HEAD',
    );
  });
});
