import { registerAs } from '@nestjs/config';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ToInt } from './transforms.js';
import { validateEnv } from './validate-env.js';

// One secret, or several separated by commas during a rotation (any one of them verifies).
const SECRET_LIST = /^\s*[^,\s]+\s*(,\s*[^,\s]+\s*)*$/;

class WebhooksEnv {
  @IsOptional()
  @Matches(SECRET_LIST, { message: 'SINCH_WEBHOOK_SECRET must be one or more comma-separated secrets' })
  SINCH_WEBHOOK_SECRET?: string;

  @IsOptional()
  @Matches(SECRET_LIST, { message: 'ENOSEND_WEBHOOK_SECRET must be one or more comma-separated secrets' })
  ENOSEND_WEBHOOK_SECRET?: string;

  /** Meta signs callbacks (X-Hub-Signature-256) with the app secret of the Meta app. */
  @IsOptional()
  @Matches(SECRET_LIST, { message: 'META_APP_SECRET must be one or more comma-separated secrets' })
  META_APP_SECRET?: string;

  /** Meta's subscription handshake (GET /webhooks/meta) presents this token as hub.verify_token. */
  @IsOptional()
  @Matches(SECRET_LIST, {
    message: 'META_WEBHOOK_VERIFY_TOKEN must be one or more comma-separated tokens',
  })
  META_WEBHOOK_VERIFY_TOKEN?: string;

  @ToInt()
  @IsInt({ message: 'WEBHOOK_TOLERANCE_SECONDS must be an integer' })
  @Min(30, { message: 'WEBHOOK_TOLERANCE_SECONDS must be between 30 and 900' })
  // Stripe and the Standard Webhooks spec use 5 minutes; much longer makes replays cheap.
  @Max(900, { message: 'WEBHOOK_TOLERANCE_SECONDS must be between 30 and 900' })
  WEBHOOK_TOLERANCE_SECONDS = 300;
}

function secrets(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const webhooksConfig = registerAs('webhooks', () => {
  const env = validateEnv(WebhooksEnv);
  return {
    /** Empty list = not configured: every request to that webhook is refused (fail closed). */
    sinchSecrets: secrets(env.SINCH_WEBHOOK_SECRET),
    enosendSecrets: secrets(env.ENOSEND_WEBHOOK_SECRET),
    metaAppSecrets: secrets(env.META_APP_SECRET),
    metaVerifyTokens: secrets(env.META_WEBHOOK_VERIFY_TOKEN),
    toleranceSeconds: env.WEBHOOK_TOLERANCE_SECONDS,
  };
});
export type WebhooksConfig = ReturnType<typeof webhooksConfig>;
