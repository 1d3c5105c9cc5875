import net from 'node:net';
import { checkPortFree, listenErrorLine, QuietStartupLogger, startupLine } from './startup.js';

describe('start-up messages', () => {
  it('startupLine names the URL, the database, the providers and the throttling store', () => {
    expect(
      startupLine({
        host: '0.0.0.0',
        port: 3000,
        database: 'external PostgreSQL (DATABASE_URL)',
        providers: ['sinch', 'dnz'],
        redis: true,
      }),
    ).toBe(
      'listening on http://localhost:3000 | database: external PostgreSQL (DATABASE_URL) | providers: sinch, dnz | throttling store: Redis',
    );
    expect(
      startupLine({ host: '::1', port: 8080, database: 'x', providers: ['console'], redis: false }),
    ).toBe('listening on http://[::1]:8080 | database: x | providers: console | throttling store: memory');
  });

  it('checkPortFree: one line for a port in use, nothing for a free one', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      expect(await checkPortFree('127.0.0.1', port)).toBe(
        listenErrorLine({ code: 'EADDRINUSE' }, '127.0.0.1', port),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    expect(await checkPortFree('127.0.0.1', port)).toBeUndefined();
    expect(listenErrorLine(new Error('other'), '127.0.0.1', port)).toBeUndefined();
  });

  it('QuietStartupLogger moves Nest start-up chatter to debug and passes everything else through', () => {
    const calls: string[] = [];
    const inner = {
      log: (m: unknown, c?: unknown) => calls.push(`log ${String(m)} ${String(c)}`),
      debug: (m: unknown, c?: unknown) => calls.push(`debug ${String(m)} ${String(c)}`),
      error: (m: unknown) => calls.push(`error ${String(m)}`),
      warn: (m: unknown) => calls.push(`warn ${String(m)}`),
    };
    const sut = new QuietStartupLogger(inner);
    sut.log('Mapped {/v1/otp/send, POST} route', 'RouterExplorer');
    sut.log('OtpModule dependencies initialized', 'InstanceLoader');
    sut.log('delivery worker started', 'DeliveryWorker');
    sut.warn('careful');
    expect(calls).toEqual([
      'debug Mapped {/v1/otp/send, POST} route RouterExplorer',
      'debug OtpModule dependencies initialized InstanceLoader',
      'log delivery worker started DeliveryWorker',
      'warn careful',
    ]);
  });
});
