import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type TestApp } from './helpers/app.js';

type Json = Record<string, unknown>;
interface Operation {
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: Json }> }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, Json>;
    schemas: Record<string, Json & { properties?: Json }>;
  };
}

/** Every route of shared/docs/API.md, as OpenAPI writes it. */
const CONTRACT_ROUTES: [string, string][] = [
  ['post', '/v1/otp/send'],
  ['post', '/v1/otp/verify'],
  ['get', '/v1/otp/{id}'],
  ['get', '/health/live'],
  ['get', '/health/ready'],
  ['get', '/metrics'],
];
// The webhook routes belong to src/webhooks/, whose controller is currently excluded from the
// document (@ApiExcludeController: "not client API"). API.md lists them, so these checks switch on
// by themselves once that exclusion is lifted.
const WEBHOOK_ROUTES: [string, string][] = [
  ['post', '/webhooks/sinch'],
  ['post', '/webhooks/enosend'],
];
const webhooksController = join(process.cwd(), 'src', 'webhooks', 'webhooks.controller.ts');
const webhooksDocumented =
  existsSync(webhooksController) &&
  !readFileSync(webhooksController, 'utf8').includes('@ApiExcludeController(');

/** Every error code API.md names. */
const CONTRACT_CODES = [
  'invalid_request',
  'invalid_phone',
  'unauthorized',
  'rate_limited',
  'resend_cooldown',
  'idempotency_key_reused',
  'idempotency_in_progress',
  'service_unavailable',
  'invalid_code',
  'expired',
  'not_found',
  'max_attempts_reached',
  'country_not_allowed',
  'invalid_signature',
  'payload_too_large',
  'internal_error',
];

/** `code` → HTTP status of every example of one operation. */
function exampleCodes(op: Operation): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [status, response] of Object.entries(op.responses)) {
    for (const example of Object.values(response.content?.['application/json']?.examples ?? {})) {
      if (typeof example.value.code === 'string') out[example.value.code] = Number(status);
    }
  }
  return out;
}

describe('OpenAPI: /docs and /docs-json', () => {
  let t: TestApp;
  let doc: Document;
  beforeAll(async () => {
    t = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' } });
    const res = await t.request<Document>('GET', '/docs-json', { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    doc = res.body;
  });
  afterAll(() => t.close());

  it.each(CONTRACT_ROUTES)('lists %s %s', (method, path) => {
    expect(doc.paths[path]?.[method]).toBeDefined();
  });

  (webhooksDocumented ? it.each(WEBHOOK_ROUTES) : it.skip.each(WEBHOOK_ROUTES))(
    'lists %s %s',
    (method, path) => {
      expect(doc.paths[path]?.[method]).toBeDefined();
    },
  );

  it('declares bearer auth and requires it on every /v1 operation, and only there', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        const secured = (op.security ?? []).some((s) => 'bearer' in s);
        expect([path, secured]).toEqual([path, path.startsWith('/v1/')]);
      }
    }
  });

  it('documents the bodies of send and verify with their examples', () => {
    const send = doc.paths['/v1/otp/send'].post;
    const verify = doc.paths['/v1/otp/verify'].post;
    expect(send.requestBody?.content['application/json'].schema.$ref).toBe('#/components/schemas/SendOtpDto');
    expect(verify.requestBody?.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/VerifyOtpDto',
    );
    const sendDto = doc.components.schemas.SendOtpDto;
    expect(sendDto.required).toEqual(['phone']);
    expect(Object.keys(sendDto.properties ?? {}).sort()).toEqual(
      ['clientIp', 'defaultCountry', 'locale', 'phone', 'purpose'].sort(),
    );
    expect(sendDto.properties?.phone).toMatchObject({ example: '+233 24 123 4567' });
    expect(doc.components.schemas.VerifyOtpDto.required).toEqual(['phone', 'code']);
    expect(send.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]),
    );
    // One optional header: the handler reads it from the request, not through a @Headers() parameter.
    const idempotencyHeaders = (send.parameters ?? []).filter(
      (p) => 'name' in p && p.name.toLowerCase() === 'idempotency-key',
    );
    expect(idempotencyHeaders).toEqual([expect.objectContaining({ required: false })]);
  });

  it('documents the success bodies of send (202), verify (200) and status (200)', () => {
    const ref = (op: Operation, status: string) =>
      (op.responses[status]?.content?.['application/json'] as { schema?: { $ref?: string } } | undefined)
        ?.schema?.$ref;
    expect(ref(doc.paths['/v1/otp/send'].post, '202')).toBe('#/components/schemas/SendOtpResponse');
    expect(ref(doc.paths['/v1/otp/verify'].post, '200')).toBe('#/components/schemas/VerifyOtpResponse');
    expect(ref(doc.paths['/v1/otp/{id}'].get, '200')).toBe('#/components/schemas/OtpStatusResponse');
    expect(Object.keys(doc.components.schemas.SendOtpResponse.properties ?? {}).sort()).toEqual(
      [
        'attemptsRemaining',
        'delivery',
        'expiresAt',
        'expiresIn',
        'id',
        'phone',
        'purpose',
        'resendAvailableAt',
        'status',
      ].sort(),
    );
    expect(doc.components.schemas.OtpStatusResponse.properties?.status).toMatchObject({
      enum: ['pending', 'verified', 'expired', 'max_attempts_reached', 'canceled'],
    });
  });

  it('lists every error code of API.md in the ErrorResponse schema', () => {
    // A named enum (enumName: 'ErrorCode') is a component referenced through allOf.
    const code = doc.components.schemas.ErrorResponse.properties?.code as { allOf?: { $ref: string }[] };
    expect(code.allOf?.[0].$ref).toBe('#/components/schemas/ErrorCode');
    expect(doc.components.schemas.ErrorCode.enum).toEqual(expect.arrayContaining(CONTRACT_CODES));
  });

  it('gives each route the error codes it answers with, under the right status', () => {
    expect(exampleCodes(doc.paths['/v1/otp/send'].post)).toMatchObject({
      invalid_request: 400,
      invalid_phone: 400,
      unauthorized: 401,
      idempotency_in_progress: 409,
      payload_too_large: 413,
      idempotency_key_reused: 422,
      rate_limited: 429,
      resend_cooldown: 429,
      internal_error: 500,
      service_unavailable: 503,
    });
    expect(exampleCodes(doc.paths['/v1/otp/verify'].post)).toMatchObject({
      invalid_code: 400,
      expired: 400,
      not_found: 400,
      max_attempts_reached: 429,
      unauthorized: 401,
    });
    expect(exampleCodes(doc.paths['/v1/otp/{id}'].get)).toMatchObject({ not_found: 404, unauthorized: 401 });
    expect(doc.paths['/health/ready'].get.responses['503']).toBeDefined();
  });

  it('serves Swagger UI as HTML at /docs, with its assets, without an API key', async () => {
    const page = await t.request('GET', '/docs', { auth: false });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toContain('<div id="swagger-ui">');
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'swagger-ui-init.js']) {
      const res = await t.request('GET', `/docs/${asset}`, { auth: false });
      expect([asset, res.status]).toEqual([asset, 200]);
    }
    const init = await t.request('GET', '/docs/swagger-ui-init.js', { auth: false });
    expect(init.text).toContain("url: 'docs-json'");
  });

  it('serves no other file under /docs', async () => {
    for (const path of ['/docs/package.json', '/docs/../package.json', '/docs/index.html']) {
      const res = await t.request('GET', path, { auth: false });
      expect([path, res.status]).toEqual([path, 404]);
    }
  });
});
