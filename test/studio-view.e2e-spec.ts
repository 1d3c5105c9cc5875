import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type TestApp } from './helpers/app.js';
import { uniquePhone, withDb } from './helpers/db.js';

type Body = Record<string, unknown>;

/** What an operator reads first in Prisma Studio (docs/prisma-studio.md), in this order. */
const OPERATOR_COLUMNS = [
  'status',
  'phone',
  'purpose',
  'client',
  'expires_at',
  'attempts',
  'max_attempts',
  'delivery_status',
];

describe('otp_codes_overview: the Prisma Studio view', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' } });
  });
  afterAll(() => t.close());

  it('is a view Studio lists (pg_class relkind v), with the operator’s columns first and no hash', async () => {
    const { kind, columns } = await withDb(async (db) => ({
      // Studio lists relations of relkind 'r' (tables) and 'v' (views), columns by attnum.
      kind: (
        await db.query<{ k: string }>(
          `SELECT relkind::text AS k FROM pg_class WHERE relname = 'otp_codes_overview'`,
        )
      ).rows[0]?.k,
      columns: (
        await db.query<{ n: string }>(
          `SELECT attname AS n FROM pg_attribute WHERE attrelid = 'otp_codes_overview'::regclass AND attnum > 0
           AND NOT attisdropped ORDER BY attnum`,
        )
      ).rows.map((r) => r.n),
    }));
    expect(kind).toBe('v');
    expect(columns.slice(0, OPERATOR_COLUMNS.length)).toEqual(OPERATOR_COLUMNS);
    expect(columns).toContain('id');
    expect(columns.filter((c) => /hash|key/.test(c))).toEqual([]);
  });

  it('shows the effective status: a pending code past its expiry reads expired', async () => {
    const phone = uniquePhone();
    const sent = await t.request<Body>('POST', '/v1/otp/send', { body: { phone, purpose: 'studio' } });
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    const row = () =>
      withDb(
        async (db) =>
          (
            await db.query<{
              status: string;
              stored_status: string;
              client: string;
              delivery_status: string;
            }>(
              'SELECT status::text, stored_status::text, client, delivery_status::text FROM otp_codes_overview WHERE id = $1',
              [id],
            )
          ).rows[0],
      );
    expect(await row()).toEqual({
      status: 'pending',
      stored_status: 'pending',
      client: 'acme',
      delivery_status: 'queued',
    });
    // The database's clock decides (the view reads now()): move the expiry into the past.
    await withDb((db) =>
      db.query(`UPDATE one_time_codes SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]),
    );
    expect(await row()).toMatchObject({ status: 'expired', stored_status: 'pending' });
  });

  it('npm run db:studio turns Prisma’s telemetry off', () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['db:studio']).toMatch(/\bCHECKPOINT_DISABLE=1\b.*\bprisma studio\b/);
  });
});
