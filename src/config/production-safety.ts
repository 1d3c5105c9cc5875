import { createHash } from 'node:crypto';
import { PUBLISHED_STEM_DIGESTS, PUBLISHED_VALUE_DIGESTS } from './published-values.generated.js';

/**
 * What NODE_ENV=production refuses at start-up (shared/docs API.md A4 and Decision 6). Each rule
 * returns the one line that names the variable holding the unsafe value, never the value itself.
 */

/**
 * Providers that send callbacks, and the variables that must hold their webhook secrets when the
 * provider is in OTP_PROVIDERS. One line per provider; read from the environment, so a provider
 * whose configuration namespace does not exist yet (meta) is still covered.
 */
export const CALLBACK_SECRETS: Readonly<Record<string, readonly string[]>> = {
  sinch: ['SINCH_WEBHOOK_SECRET'],
  enosend: ['ENOSEND_WEBHOOK_SECRET'],
  meta: ['META_APP_SECRET', 'META_WEBHOOK_VERIFY_TOKEN'],
};

/** How a variable holds its secrets, and the shortest length each may have (0: only "not published"). */
interface SecretRule {
  variable: string;
  minLength: number;
  /** `name:secret` pairs (CLIENT_API_KEYS): the names are not secret and may be quoted. */
  pairs?: boolean;
}

export const MIN_HASH_SECRET_BYTES = 32;
export const MIN_HASH_SECRET_DISTINCT = 10;
export const MIN_CLIENT_KEY_LENGTH = 24;
export const MIN_WEBHOOK_SECRET_LENGTH = 16;
export const MIN_METRICS_TOKEN_LENGTH = 24;

const SECRET_RULES: readonly SecretRule[] = [
  { variable: 'OTP_HASH_SECRET', minLength: MIN_HASH_SECRET_BYTES },
  { variable: 'CLIENT_API_KEYS', minLength: MIN_CLIENT_KEY_LENGTH, pairs: true },
  { variable: 'SINCH_WEBHOOK_SECRET', minLength: MIN_WEBHOOK_SECRET_LENGTH },
  { variable: 'ENOSEND_WEBHOOK_SECRET', minLength: MIN_WEBHOOK_SECRET_LENGTH },
  { variable: 'META_APP_SECRET', minLength: MIN_WEBHOOK_SECRET_LENGTH },
  { variable: 'META_WEBHOOK_VERIFY_TOKEN', minLength: MIN_WEBHOOK_SECRET_LENGTH },
  { variable: 'METRICS_TOKEN', minLength: MIN_METRICS_TOKEN_LENGTH },
  { variable: 'WHATSAPP_OTP_API_KEY', minLength: 0 },
  { variable: 'ENOSEND_API_KEY', minLength: 0 },
  { variable: 'SINCH_KEY_SECRET', minLength: 0 },
  { variable: 'META_ACCESS_TOKEN', minLength: 0 },
];

const GENERATE = 'generate one, e.g. `openssl rand -base64 48`';

/** Same as scripts/published-values.mjs: stems shorter than this are not compared. */
export const MIN_STEM_LENGTH = 12;
/** Lower case, trailing digits and punctuation removed (as scripts/published-values.mjs `stemOf`). */
export function stemOf(value: string): string {
  return value.toLowerCase().replace(/[^a-z]+$/, '');
}
/** Placeholder words of templates and tutorials: a secret that contains one was never generated. */
const PLACEHOLDER = /change[-_ .]?me|replace[-_ .]?me|your[-_ .]?secret/i;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * A published value (exactly), one copied with another suffix or case (`…-0002`, `…!`, upper case:
 * same stem), or a placeholder (`change-me`): every one of them is a secret an attacker can guess.
 */
export function isPublished(value: string): boolean {
  if (PUBLISHED_VALUE_DIGESTS.has(sha256(value)) || PLACEHOLDER.test(value)) return true;
  const stem = stemOf(value);
  return stem.length >= MIN_STEM_LENGTH && PUBLISHED_STEM_DIGESTS.has(sha256(stem));
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Each secret of a variable, with a label that names where it is (`CLIENT_API_KEYS (client checkout)`). */
function secretsOf(rule: SecretRule, env: NodeJS.ProcessEnv): { where: string; secret: string }[] {
  return list(env[rule.variable]).map((part, i, all) => {
    if (rule.pairs) {
      const colon = part.indexOf(':');
      return { where: `${rule.variable} (client ${part.slice(0, colon)})`, secret: part.slice(colon + 1) };
    }
    return { where: all.length > 1 ? `${rule.variable} (entry ${i + 1})` : rule.variable, secret: part };
  });
}

/**
 * The first unsafe setting of a production environment as one line, or undefined when it is safe.
 * Secrets equal to a published value (`.env.example`, `docker-compose.yml`, `deploy/`), short or
 * low-entropy secrets, and callback providers without their webhook secrets are refused.
 */
export function productionConfigProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const rule of SECRET_RULES) {
    for (const { where, secret } of secretsOf(rule, env)) {
      if (isPublished(secret)) {
        return `${where} holds a value published in this repository (.env.example, docker-compose.yml or deploy/): ${GENERATE}`;
      }
      if (rule.variable === 'OTP_HASH_SECRET') {
        if (Buffer.byteLength(secret, 'utf8') < MIN_HASH_SECRET_BYTES) {
          return `${where} must be at least ${MIN_HASH_SECRET_BYTES} bytes in production: ${GENERATE}`;
        }
        if (new Set(secret).size < MIN_HASH_SECRET_DISTINCT) {
          return `${where} must have at least ${MIN_HASH_SECRET_DISTINCT} distinct characters in production (it looks like a placeholder): ${GENERATE}`;
        }
      } else if (secret.length < rule.minLength) {
        return `${where} must be at least ${rule.minLength} characters in production: ${GENERATE}`;
      }
    }
  }
  for (const provider of list(env.OTP_PROVIDERS)) {
    for (const variable of CALLBACK_SECRETS[provider] ?? []) {
      if (list(env[variable]).length === 0) {
        return `${variable} is required in production when OTP_PROVIDERS includes ${provider} (its callbacks are verified with it)`;
      }
    }
  }
  return undefined;
}
