import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { CENSOR, censorSecrets, REDACT_PATHS, SECRET_KEYS } from './redaction.js';

/** A logger configured as LoggingModule configures it, writing its lines into `lines`. */
function logger(lines: string[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return pino(
    {
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      formatters: { log: censorSecrets },
    },
    sink,
  );
}

describe('log redaction', () => {
  it.each(SECRET_KEYS)('censors %s one level down in a log object, a class instance and an error', (key) => {
    const lines: string[] = [];
    const log = logger(lines);
    class Dto {
      constructor(readonly value: string) {}
    }
    const dto = Object.assign(new Dto('kept'), { [key]: 'SECRET-VALUE' });
    const error = Object.assign(new Error('provider failed'), { [key]: 'SECRET-VALUE' });
    log.warn({ provider: { [key]: 'SECRET-VALUE', kept: 'yes' }, dto, err: error }, 'line');
    const text = lines.join('');
    expect(text).not.toContain('SECRET-VALUE');
    const [first] = lines.map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
    expect(first.provider).toEqual({ [key]: CENSOR, kept: 'yes' });
    expect(first.dto).toEqual({ value: 'kept', [key]: CENSOR });
    // pino's error serializer still sees an Error: type, message and stack survive.
    expect(first.err).toMatchObject({ type: 'Error', message: 'provider failed', [key]: CENSOR });
    expect(String(first.err.stack)).toContain('provider failed');
  });

  it('keeps the exact paths (headers, an error’s config) and never changes the caller’s objects', () => {
    const lines: string[] = [];
    const provider = { token: 'SECRET-VALUE' };
    const err = Object.assign(new Error('x'), {
      config: { headers: { Authorization: 'Bearer SECRET-VALUE' } },
    });
    logger(lines).error({ provider, err, req: { headers: { authorization: 'Bearer SECRET-VALUE' } } }, 'x');
    expect(lines.join('')).not.toContain('SECRET-VALUE');
    expect(provider.token).toBe('SECRET-VALUE');
    expect(err.config.headers.Authorization).toBe('Bearer SECRET-VALUE');
  });

  it('returns the object itself when nothing is secret (no copy on the hot path)', () => {
    const line = {
      reqId: 'a',
      route: '/v1/otp/verify',
      statusCode: 400,
      nested: { phoneMasked: '+233****12' },
    };
    expect(censorSecrets(line)).toBe(line);
  });
});

/** Every .ts file under src/, specs excluded. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('child loggers', () => {
  it('none is created in src/: a child logger binding skips censorSecrets (pino runs formatters.log only on log objects)', () => {
    // pino-http's per-request child binds the request, which its serializer reduces to id, method
    // and URL path (LoggingModule); any other binding would need the wildcard redaction back.
    const offenders = sources(join(process.cwd(), 'src')).filter((file) =>
      /\.child\(/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
