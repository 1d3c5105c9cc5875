import pg from 'pg';
import type { EmbeddedPostgres } from '../../src/embedded/embedded-postgres.js';

/** Set by global-setup.ts when it started an embedded server for the run. */
const EMBEDDED_SERVER = Symbol.for('whatsapp-otp-service.test.embedded-postgres');

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as typeof globalThis & { [EMBEDDED_SERVER]?: EmbeddedPostgres })[
    EMBEDDED_SERVER
  ];
  try {
    const name = process.env.TEST_DATABASE_NAME;
    if (!name || process.env.KEEP_TEST_DB === 'true') return;
    const client = new pg.Client({
      connectionString: process.env.TEST_DATABASE_ADMIN_URL,
      connectionTimeoutMillis: 3000,
    });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  } finally {
    // The embedded server started for this run (global-setup.ts) stops with it.
    await server?.stop();
  }
}
