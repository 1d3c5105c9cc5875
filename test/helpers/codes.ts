import { deriveKeys, PayloadCipher } from '../../src/common/crypto/index.js';
import { TEST_ENV } from '../setup/test-env.js';
import { withDb } from './db.js';
import { rememberCode } from './log-leaks.js';

/**
 * The code of an issued verification, read the way the delivery worker reads it: from its queued
 * job, decrypted with the test secret. (The service itself has no way to reveal a code.)
 */
export async function issuedCode(id: string, secret = TEST_ENV.OTP_HASH_SECRET): Promise<string> {
  const row = await withDb(async (db) => {
    const res = await db.query<{ payload: { id: string; c: string } }>(
      'SELECT payload FROM graphile_worker._private_jobs WHERE key = $1',
      [id],
    );
    return res.rows[0];
  });
  if (!row) throw new Error(`no queued delivery job for ${id}`);
  const code = new PayloadCipher(deriveKeys(secret.split(','))).decrypt(row.payload.c, id);
  rememberCode(code);
  return code;
}
