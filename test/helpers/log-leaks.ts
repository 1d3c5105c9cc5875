import { TEST_ENV } from '../setup/test-env.js';

/**
 * Suite-wide log scan (SECURITY.md: "no code, key, Authorization header or full phone number in
 * logs"). Everything secret a test file handles is remembered here as it appears — keys from the
 * environment apps and services start with, credentials and codes the provider fakes receive,
 * codes read back by `issuedCode`, phones from `uniquePhone` — and every app's `close()` and every
 * spawned service (test/helpers/app.ts, process.ts) scans its captured log lines against all of
 * it, failing the file loudly on a hit. Jest gives each test file its own module registry, so the
 * memory is per file.
 */
export interface LogSecrets {
  codes?: Iterable<string>;
  phones?: Iterable<string>;
  keys?: Iterable<string>;
}

const remembered = { codes: new Set<string>(), phones: new Set<string>(), keys: new Set<string>() };

/** Variables whose values are secrets (`WHATSAPP_OTP_API_KEY`, `SINCH_KEY_SECRET`, `CLIENT_API_KEYS`…). */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const SECRET_VARIABLE = /(SECRET|API_KEYS?$|TOKEN|PASSWORD)/;

export function rememberKey(value: string | undefined): void {
  // Short values would match by accident; no real key in this suite is shorter than 8.
  if (value && value.length >= 8 && !/^\d+$/.test(value)) remembered.keys.add(value);
}

export function rememberCode(code: string | undefined): void {
  if (code && /^\d{4,10}$/.test(code)) remembered.codes.add(code);
}

export function rememberPhone(phone: string): void {
  remembered.phones.add(phone);
}

/** The secret values in an environment (comma-separated rotations and `name:secret` pairs split). */
export function rememberSecretsIn(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!value || !SECRET_VARIABLE.test(name)) continue;
    for (const part of value.split(',')) {
      const trimmed = part.trim();
      rememberKey(name === 'CLIENT_API_KEYS' ? trimmed.slice(trimmed.indexOf(':') + 1) : trimmed);
    }
  }
}

/**
 * What a provider fake received from the service: credentials (Authorization header, `apiKey`
 * field) and codes (an all-digit template parameter, or a number inside the message text).
 */
export function rememberProviderRequest(
  headers: Record<string, string | string[] | undefined>,
  json: unknown,
): void {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const [scheme, credentials] = authorization.split(/\s+/, 2);
    rememberKey(credentials);
    if (/^basic$/i.test(scheme) && credentials) {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      rememberKey(decoded.slice(decoded.indexOf(':') + 1));
    }
  }
  const stack: unknown[] = [json];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (/^\d{4,10}$/.test(value)) rememberCode(value);
      // Not the digit runs of a UUID (a code id in a webhook body can start with 8 digits).
      else if (/[A-Za-z]{3}/.test(value))
        for (const m of value.replace(UUID, '').matchAll(/\b(\d{4,10})\b/g)) rememberCode(m[1]);
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (/^api_?key$/i.test(key) && typeof child === 'string') rememberKey(child);
        else stack.push(child);
      }
    }
  }
}

rememberSecretsIn(TEST_ENV);

/** The static secrets of the test environment (client API keys, hash secret, the fakes' keys). */
export const STATIC_SECRETS = [...remembered.keys, 'dnz-test-key', 'wa_live_test_key'];
for (const key of STATIC_SECRETS) rememberKey(key);

/**
 * Every offending (secret kind, line) pair in `lines`, checked against everything remembered in
 * this file plus `extra`; empty when the logs are clean.
 */
export function leaksIn(lines: string[], extra: LogSecrets = {}): string[] {
  const keys = [...new Set([...remembered.keys, ...(extra.keys ?? [])])];
  const codes = [...new Set([...remembered.codes, ...(extra.codes ?? [])])];
  const phones = [...new Set([...remembered.phones, ...(extra.phones ?? [])])].map((p) =>
    p.replace(/^\+/, ''),
  );
  const codePatterns = codes.map(
    (code) => [code, new RegExp(`(?<![0-9A-Za-z.])${code}(?![0-9A-Za-z])`)] as const,
  );
  const leaks: string[] = [];
  for (const line of lines) {
    const shown = line.slice(0, 300);
    for (const key of keys) if (line.includes(key)) leaks.push(`key ${key.slice(0, 4)}…: ${shown}`);
    if (/Bearer\s+[A-Za-z0-9._~+/-]{4,}/i.test(line)) leaks.push(`bearer: ${shown}`);
    for (const phone of phones) if (line.includes(phone)) leaks.push(`phone …${phone.slice(-2)}: ${shown}`);
    for (const [code, pattern] of codePatterns) if (pattern.test(line)) leaks.push(`code ${code}: ${shown}`);
  }
  return leaks;
}

/** Throws, listing the first leaks, when `lines` hold anything secret. */
export function assertNoLeaks(lines: string[], where: string, extra: LogSecrets = {}): void {
  const leaks = leaksIn(lines, extra);
  if (leaks.length === 0) return;
  throw new Error(
    `${where}: ${leaks.length} secret(s) in the logs (SECURITY.md: no code, key, Authorization ` +
      `header or full phone number in logs):\n${leaks.slice(0, 10).join('\n')}`,
  );
}
