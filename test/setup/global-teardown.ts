import pg from 'pg';
import type { EmbeddedPostgres } from '../../src/embedded/embedded-postgres.js';

/** Set by global-setup.ts when it started an embedded server for the run. */
const EMBEDDED_SERVER = Symbol.for('whatsapp-otp-service.test.embedded-postgres');

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as typeof globalThis & { [EMBEDDED_SERVER]?: EmbeddedPostgres })[
    EMBEDDED_SERVER
  ];
  // The e2e and medium projects both name this teardown: the first one drops, the second finds nothing.
  const names = [process.env.TEST_DATABASE_NAME, process.env.TEST_MEDIUM_DATABASE_NAME].filter(
    (n): n is string => !!n,
  );
  delete process.env.TEST_DATABASE_NAME;
  delete process.env.TEST_MEDIUM_DATABASE_NAME;
  try {
    if (names.length === 0 || process.env.KEEP_TEST_DB === 'true') return;
    const client = new pg.Client({
      connectionString: process.env.TEST_DATABASE_ADMIN_URL,
      connectionTimeoutMillis: 3000,
    });
    await client.connect();
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  } finally {
    // The embedded server started for this run (global-setup.ts) stops with it.
    (globalThis as typeof globalThis & { [EMBEDDED_SERVER]?: EmbeddedPostgres })[EMBEDDED_SERVER] = undefined;
    await server?.stop();
  }
}
