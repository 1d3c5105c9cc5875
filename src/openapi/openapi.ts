import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { type ErrorCode, errorExample } from '../common/index.js';
import { serveSwaggerUi } from './swagger-ui.js';

/** Name of the security scheme that @ApiBearerAuth(BEARER_AUTH) on the controllers refers to. */
export const BEARER_AUTH = 'bearer';

/** GET /metrics: `Authorization: Bearer <METRICS_TOKEN>` when that variable is set. */
export const METRICS_AUTH = 'metricsToken';

export const DOCS_PATH = '/docs';

/**
 * Errors any operation can answer before or around its handler (the HTTP parser's limits, an
 * unexpected fault): added to every operation of the document, so a generated client knows them.
 */
export const TRANSPORT_ERRORS: ErrorCode[] = [
  'request_timeout',
  'uri_too_long',
  'headers_too_large',
  'internal_error',
];

/**
 * Codes that belong to a path rather than an operation (an unknown path, a known path with the
 * wrong method): listed in the ErrorCode enum and described in the document's description, not
 * as a response of any one operation.
 */
export const PATH_LEVEL_ERRORS: ErrorCode[] = ['route_not_found', 'method_not_allowed'];

const REQUEST_ID = 'X-Request-Id';

type Json = Record<string, unknown>;
interface ResponseObject extends Json {
  headers?: Json;
  content?: Record<string, Json>;
}
interface OperationObject extends Json {
  security?: Json[];
  responses: Record<string, ResponseObject>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The OpenAPI document, generated from the controllers and DTOs (no hand-written paths). */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('whatsapp-otp-service')
    .setDescription(
      'One-time passcodes over WhatsApp: send, verify, status; provider webhooks; probes and metrics. ' +
        'Every error body is `{ statusCode, code, message, details? }` (ErrorResponse); clients branch on `code`. ' +
        'Every response carries `X-Request-Id`. An unknown path answers 404 `route_not_found`; a known path ' +
        'called with another method answers 405 `method_not_allowed` with an `Allow` header. ' +
        'The full contract (amendments, error codes, configuration) is `docs/api.md` in the repository.',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/license/mit')
    .addServer('/', 'This service')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description:
          'A client secret from CLIENT_API_KEYS (`name:secret` pairs); required on every /v1 route',
      },
      BEARER_AUTH,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'METRICS_TOKEN; required on GET /metrics only when that variable is set',
      },
      METRICS_AUTH,
    )
    .addTag('otp', 'Issue, verify and inspect codes (callers are backends, never browsers)')
    .addTag('webhooks', 'Provider callbacks, signed by the provider (no API key)')
    .addTag('health', 'Kubernetes probes')
    .addTag('metrics', 'Prometheus exposition')
    .build();
  return completeDocument(SwaggerModule.createDocument(app, config));
}

/**
 * What the decorators cannot say once for every operation:
 *  - the bearer schemes are opaque secrets, not JWTs (DocumentBuilder labels every bearer scheme JWT);
 *  - every response carries X-Request-Id;
 *  - every operation can answer TRANSPORT_ERRORS, and every error response has the ErrorResponse body;
 *  - operations without an API key say so (`security: []`), instead of inheriting nothing silently.
 */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  for (const scheme of Object.values(document.components?.securitySchemes ?? {})) {
    delete (scheme as { bearerFormat?: string }).bearerFormat;
  }
  const components = (document.components ??= {}) as Json & { headers?: Json };
  components.headers = {
    ...components.headers,
    [REQUEST_ID]: {
      description:
        'The request id: the caller’s own X-Request-Id when it is a safe token, else one generated; logged with the request',
      schema: { type: 'string', example: '3f0b1c9e-5d2a-4c8e-9f1a-7b6d2e4c8a10' },
    },
  };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = (item as Record<string, OperationObject | undefined>)[method];
      if (!operation) continue;
      operation.security ??= [];
      for (const code of TRANSPORT_ERRORS) {
        const example = errorExample(code);
        const status = String(example.statusCode);
        operation.responses[status] ??= {
          description: `\`${code}\``,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/ErrorResponse' },
              examples: { [code]: { summary: code, value: example } },
            },
          },
        };
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        // Every error leaves through AllExceptionsFilter: an error response declared without a
        // body (e.g. @ApiForbiddenResponse({ description })) still has the ErrorResponse body.
        if (Number(status) >= 400 && !response.content) {
          response.content = {
            'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } },
          };
        }
        response.headers = {
          [REQUEST_ID]: { $ref: `#/components/headers/${REQUEST_ID}` },
          ...response.headers,
        };
      }
    }
  }
  return document;
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
