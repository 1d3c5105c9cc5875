import net from 'node:net';
import type { LoggerService } from '@nestjs/common';

/**
 * Nest's own start-up chatter (one line per module, per controller and per route, ~30 lines) is
 * debug detail: the one start-up line (`startupLine`) says what an operator needs. Everything
 * else goes to the wrapped logger unchanged.
 */
const START_UP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

export class QuietStartupLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    if (typeof context === 'string' && START_UP_CONTEXTS.has(context)) this.inner.debug?.(message, ...params);
    else this.inner.log(message, ...params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.inner.error(message, ...params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.inner.warn(message, ...params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.inner.debug?.(message, ...params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.inner.verbose?.(message, ...params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    (this.inner.fatal ?? this.inner.error).call(this.inner, message, ...params);
  }
}

export interface StartupFacts {
  host: string;
  port: number;
  database: string;
  providers: string[];
  redis: boolean;
}

/** The one start-up line: where the service listens, on which database, with what. */
export function startupLine(facts: StartupFacts): string {
  const host = ['0.0.0.0', '::', ''].includes(facts.host) ? 'localhost' : facts.host;
  return (
    `listening on http://${host.includes(':') ? `[${host}]` : host}:${facts.port}` +
    ` | database: ${facts.database}` +
    ` | providers: ${facts.providers.join(', ')}` +
    ` | throttling store: ${facts.redis ? 'Redis' : 'memory'}`
  );
}

/** One line for a port that cannot be listened on (busy, or not allowed), or undefined. */
export function listenErrorLine(error: unknown, host: string, port: number): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return `Cannot start: port ${port} on ${host} is already in use (stop what uses it, or set PORT to another port)`;
  }
  if (code === 'EACCES')
    return `Cannot start: not allowed to listen on port ${port} (set PORT to a port above 1023)`;
  if (code === 'EADDRNOTAVAIL') return `Cannot start: HOST ${host} is not an address of this machine`;
  return undefined;
}

/**
 * Checks that host:port can be listened on before anything starts (database, worker), so a busy
 * port is one clear line and nothing to clean up. (The real listen still handles the rare race.)
 */
export function checkPortFree(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (error) => resolve(listenErrorLine(error, host, port) ?? undefined));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}
