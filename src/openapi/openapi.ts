import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { serveSwaggerUi } from './swagger-ui.js';

/** Name of the security scheme that @ApiBearerAuth(BEARER_AUTH) on the controllers refers to. */
export const BEARER_AUTH = 'bearer';

export const DOCS_PATH = '/docs';

/** The OpenAPI document, generated from the controllers and DTOs (no hand-written paths). */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('whatsapp-otp-service')
    .setDescription(
      'One-time passcodes over WhatsApp: send, verify, status; provider webhooks; probes and metrics. ' +
        'Every error body is `{ statusCode, code, message, details? }` (ErrorResponse); clients branch on `code`. ' +
        'The full contract (amendments, error codes, configuration) is `docs/api.md` in the repository.',
    )
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description:
          'A client secret from CLIENT_API_KEYS (`name:secret` pairs); required on every /v1 route',
      },
      BEARER_AUTH,
    )
    .addTag('otp', 'Issue, verify and inspect codes (callers are backends, never browsers)')
    .addTag('health', 'Kubernetes probes')
    .addTag('metrics', 'Prometheus exposition')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * GET /docs (Swagger UI) and GET /docs-json (the document). Mounted outside Nest's router, so the
 * API-key guard does not apply: the contract is public, the keys are not in it.
 */
export function setupOpenApi(app: NestFastifyApplication): void {
  // Built once at start-up: a decorator mistake fails the boot, not the first /docs request.
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, document, { ui: false, raw: ['json'] });
  serveSwaggerUi(app.getHttpAdapter().getInstance(), DOCS_PATH, 'whatsapp-otp-service API');
}
