import { ConsoleProvider } from './console.provider.js';

describe('ConsoleProvider', () => {
  const originalEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = originalEnv;
  });

  it('refuses to exist in production', () => {
    process.env.NODE_ENV = 'production';

    expect(() => new ConsoleProvider()).toThrow(
      'The console WhatsApp provider is for development only and cannot run in production',
    );
  });

  it('prints a labelled DEVELOPMENT ONLY message with the code and a masked number', async () => {
    process.env.NODE_ENV = 'development';
    const written: string[] = [];
    const sut = new ConsoleProvider({ write: (text) => written.push(text) });

    const result = await sut.send({ codeId: 'c1', phone: '+233200000000', code: '246810', ttlMinutes: 5 });

    expect(result.providerStatus).toBe('printed');
    expect(result.providerMessageId).toMatch(
      /^console-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(written).toEqual([
      '\n[DEVELOPMENT ONLY: console WhatsApp provider, nothing was sent]\n' +
        `  to +233*******00 (${result.providerMessageId})\n` +
        '  Your verification code is 246810. It expires in 5 minutes. Do not share it with anyone.\n\n',
    ]);
  });

  it('returns a different id for every message', async () => {
    process.env.NODE_ENV = 'test';
    const sut = new ConsoleProvider({ write: () => undefined });
    const msg = { codeId: 'c1', phone: '+233200000000', code: '1', ttlMinutes: 5 };

    const ids = new Set([(await sut.send(msg)).providerMessageId, (await sut.send(msg)).providerMessageId]);

    expect(ids.size).toBe(2);
  });

  it('writes to stderr by default', async () => {
    process.env.NODE_ENV = 'development';
    const original = process.stderr.write.bind(process.stderr);
    const captured: string[] = [];
    process.stderr.write = ((chunk: string | Uint8Array) => {
      captured.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      await new ConsoleProvider().send({
        codeId: 'c1',
        phone: '+233200000000',
        code: '135790',
        ttlMinutes: 2,
      });
    } finally {
      process.stderr.write = original;
    }

    expect(captured.join('')).toContain('[DEVELOPMENT ONLY');
    expect(captured.join('')).toContain('Your verification code is 135790. It expires in 2 minutes.');
  });
});
