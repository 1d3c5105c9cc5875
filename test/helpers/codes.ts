import { deriveKeys, PayloadCipher } from '../../src/common/crypto/index.js';
import { TEST_ENV } from '../setup/test-env.js';
import { rememberCode } from './log-leaks.js';
import { queuedPayload } from './queue.js';

/**
 * The code of an issued verification, read the way the delivery worker reads it: from its queued
 * job, decrypted with the test secret. (The service itself has no way to reveal a code.)
 */
export async function issuedCode(
  id: string,
  secret = TEST_ENV.OTP_HASH_SECRET,
  /** The database (default DATABASE_URL; the medium tier passes its own). */
  url?: string,
): Promise<string> {
  const payload = await queuedPayload<{ id: string; c: string }>(id, url);
  if (!payload) throw new Error(`no queued delivery job for ${id}`);
  const code = new PayloadCipher(deriveKeys(secret.split(','))).decrypt(payload.c, id);
  rememberCode(code);
  return code;
}
