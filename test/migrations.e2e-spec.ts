import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The project's own migration commands, through the offline schema engine (prisma/engine). */
describe('migrations', () => {
  const admin = process.env.TEST_DATABASE_ADMIN_URL as string;
  const name = `otp_migrate_${Date.now()}_${process.pid}`;
  const url = Object.assign(new URL(admin), { pathname: `/${name}` }).toString();

  beforeAll(async () => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`CREATE DATABASE "${name}"`);
    await client.end();
  });
  afterAll(async () => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  });

  it('npm run db:migrate applies every migration and the job queue schema to an empty database', async () => {
    await run('npm', ['run', '--silent', 'db:migrate'], { env: { ...process.env, DATABASE_URL: url } });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query<{ t: string }>(
        `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
         WHERE table_schema IN ('public', 'graphile_worker') AND table_type = 'BASE TABLE' ORDER BY 1`,
      );
      expect(tables.rows.map((r) => r.t)).toEqual(
        expect.arrayContaining([
          'public._prisma_migrations',
          'public.one_time_codes',
          'public.delivery_attempts',
          'public.idempotency_keys',
          'public.whatsapp_contacts',
          'public.provider_states',
          'public.webhook_receipts',
          'public.phone_send_counters',
          'public.verify_guards',
          'graphile_worker._private_jobs',
        ]),
      );
      const applied = await client.query(
        'SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      );
      expect(applied.rows[0].n).toBeGreaterThanOrEqual(1);
      const index = await client.query(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'one_time_codes_one_pending_per_client_phone_purpose'",
      );
      // One pending code per (client, phone, purpose): codes belong to their client (API.md A1).
      expect(index.rows[0].indexdef).toContain('(phone, client, purpose)');
      expect(index.rows[0].indexdef).toContain('WHERE (status = \'pending\'::"VerificationStatus")');
    } finally {
      await client.end();
    }
    const status = await run('npx', ['prisma', 'migrate', 'status'], {
      env: { ...process.env, DATABASE_URL: url },
    });
    expect(status.stdout).toContain('Database schema is up to date');
  });

  it('schema.prisma and prisma/migrations do not drift (npm run db:check exits 0)', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'db:check'], {
      env: { ...process.env, DATABASE_URL: url },
    });
    expect(stdout).toContain('No difference detected');
  });
});
