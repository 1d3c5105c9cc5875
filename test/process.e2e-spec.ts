import { API_KEY } from './helpers/app.js';
import { uniquePhone, withDb } from './helpers/db.js';
import { freePort, spawnService, waitForHttp } from './helpers/process.js';

describe('the production build as a process', () => {
  it.each([
    [{ OTP_TTL_SECONDS: '900' }, 'OTP_TTL_SECONDS must be at most 600'],
    [{ OTP_HASH_SECRET: 'short' }, 'OTP_HASH_SECRET must be one or more comma-separated secrets'],
    [{ CLIENT_API_KEYS: undefined }, 'CLIENT_API_KEYS must be comma-separated name:secret pairs'],
    [{ DATABASE_URL: 'mysql://nope' }, 'DATABASE_URL must be a postgresql:// connection string'],
    [
      { NODE_ENV: 'production', OTP_PROVIDERS: 'console' },
      'OTP_PROVIDERS must not include console when NODE_ENV=production',
    ],
  ])('refuses to start with %j: one line naming the variable', async (env, message) => {
    const svc = spawnService(env as Record<string, string | undefined>);
    expect(await svc.exited).toBe(1);
    expect(svc.stderr).toHaveLength(1);
    expect(svc.stderr[0]).toContain(message);
    expect(svc.stdout.join('\n')).not.toContain('Nest application successfully started');
  });

  it('SIGTERM during requests: in-flight requests finish, then the process exits', async () => {
    const port = await freePort();
    const svc = spawnService({ LOG_LEVEL: 'warn' }, port);
    await waitForHttp(`${svc.url}/health/live`);
    const phones = Array.from({ length: 30 }, () => uniquePhone());
    const inFlight = phones.map((phone) =>
      fetch(`${svc.url}/v1/otp/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ phone }),
      }).then((r) => r.status),
    );
    // SIGTERM as soon as the server is provably busy: the first answer is back, the rest in flight.
    await Promise.race(inFlight);
    svc.child.kill('SIGTERM');
    const statuses = await Promise.all(inFlight.map((p) => p.catch(() => 'connection-error' as const)));
    const exitCode = await svc.exited;
    // Every send the server accepted (its code is in the database) got its 202 back: none was cut
    // off mid-flight. Requests that never reached the server (the listener had closed) may fail to
    // connect, and must then have stored nothing.
    const stored = await withDb((db) =>
      db.query<{ phone: string }>('SELECT phone FROM one_time_codes WHERE phone = ANY($1)', [phones]),
    );
    const storedPhones = new Set(stored.rows.map((r) => r.phone));
    expect(storedPhones.size).toBeGreaterThan(0);
    phones.forEach((phone, i) => {
      if (storedPhones.has(phone)) expect([phone, statuses[i]]).toEqual([phone, 202]);
      else expect([phone, statuses[i]]).toEqual([phone, expect.not.stringMatching(/^202$/)]);
    });
    expect(statuses).not.toContain(500);
    // A crash while closing would be a non-zero exit code (Nest re-raises SIGTERM after a clean close).
    const tail = [...svc.stdout, ...svc.stderr].filter((l) => !l.includes('"level":30')).slice(-10);
    expect({ exitCode, tail }).toEqual({ exitCode: exitCode === 0 ? 0 : null, tail: expect.any(Array) });
  });
});
