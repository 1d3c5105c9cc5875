import { randomInt } from 'node:crypto';
import pg from 'pg';
import { rememberPhone } from './log-leaks.js';

/** A direct connection to the test database, for looking at what the service stored. */
export async function withDb<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// A random block of 1,000 numbers per test file (Jest gives each file its own module registry),
// walked by a counter: distinct within a file by construction; two files collide 1 time in 10,000.
let counter = 0;
const base = randomInt(0, 10_000) * 1_000;
/** A distinct valid Ghanaian mobile number per call, so tests never share codes or buckets. */
export function uniquePhone(): string {
  counter += 1;
  const phone = `+23324${String(base + counter).padStart(7, '0')}`;
  rememberPhone(phone);
  return phone;
}
