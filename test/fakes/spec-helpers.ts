import { ProviderError } from '../../src/providers/provider.error.js';

/** Awaits `promise` and returns the ProviderError it rejects with; fails if it resolves or throws anything else. */
export async function providerFailure(promise: Promise<unknown>): Promise<ProviderError> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (err) {
    if (err instanceof ProviderError) return err;
    throw new Error(`expected a ProviderError, got ${String(err)}`);
  }
  throw new Error(`expected a ProviderError, but it resolved with ${JSON.stringify(outcome)}`);
}

/** The fields of a ProviderError that tests compare exactly. */
export function failureShape(error: ProviderError): {
  provider: string;
  kind: string;
  errorCode: string;
  httpStatus: number | undefined;
  retryAfterMs: number | undefined;
} {
  return {
    provider: error.provider,
    kind: error.kind,
    errorCode: error.errorCode,
    httpStatus: error.options.httpStatus,
    retryAfterMs: error.options.retryAfterMs,
  };
}

/** A port on 127.0.0.1 where nothing listens (for connection-refused tests). */
export async function closedPortUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Routes Nest's Logger into an array (one JSON line per call) instead of the console, so a spec
 * can assert what was logged and that no secret was. Call `restore()` when done.
 */
export async function captureNestLogs(): Promise<{ lines: string[]; restore: () => void }> {
  const { ConsoleLogger, Logger } = await import('@nestjs/common');
  const lines: string[] = [];
  const record =
    (level: string) =>
    (...args: unknown[]) => {
      lines.push(JSON.stringify({ level, args }));
    };
  Logger.overrideLogger({
    log: record('log'),
    error: record('error'),
    warn: record('warn'),
    debug: record('debug'),
    verbose: record('verbose'),
    fatal: record('fatal'),
  });
  return { lines, restore: () => Logger.overrideLogger(new ConsoleLogger()) };
}
