import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ERROR_STATUS } from '../src/common/errors/error-code.js';
import { PATH_LEVEL_ERRORS } from '../src/openapi/openapi.js';
import { API_KEY, startApp, type TestApp } from './helpers/app.js';
import { issuedCode } from './helpers/codes.js';
import { uniquePhone } from './helpers/db.js';

type Json = Record<string, unknown>;
interface Response {
  headers?: Record<string, { $ref?: string; schema?: Json }>;
  content?: Record<string, { schema?: { $ref?: string }; examples?: Record<string, { value: Json }> }>;
}
interface Operation {
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: { $ref?: string; type?: string } }> };
  responses: Record<string, Response>;
}
interface Document {
  info: { description: string };
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
// Provider callbacks: documented with their bodies and errors like every other operation.
const WEBHOOK_ROUTES: [string, string][] = [
  ['post', '/webhooks/sinch'],
  ['post', '/webhooks/enosend'],
  ['post', '/webhooks/meta'],
];

/**
 * Every error code the contract names: API.md's v1 list, A7's additions and the README's. A code
 * added to the service belongs in ERROR_STATUS (src/common/errors/error-code.ts), which the
 * document's ErrorCode enum, its examples and the checks below all read.
 */
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
  // A7
  'too_many_failures',
  'unsupported_media_type',
  'uri_too_long',
  'forbidden',
  // README
  'route_not_found',
  'method_not_allowed',
  'request_timeout',
  'headers_too_large',
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

// One app for the file: no describe needs a configuration of its own, and none changes its state.
let t: TestApp;
beforeAll(async () => {
  t = await startApp({ env: { DELIVERY_WORKER_ENABLED: 'false' } });
});
afterAll(() => t.close());

describe('OpenAPI: /docs and /docs-json', () => {
  let doc: Document;
  beforeAll(async () => {
    const res = await t.request<Document>('GET', '/docs-json', { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    doc = res.body;
  });

  it.each(CONTRACT_ROUTES)('lists %s %s', (method, path) => {
    expect(doc.paths[path]?.[method]).toBeDefined();
  });

  it.each(WEBHOOK_ROUTES)('lists %s %s', (method, path) => {
    expect(doc.paths[path]?.[method]).toBeDefined();
  });

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
    // The Meta subscription handshake: a wrong verify token or mode, or a malformed challenge.
    expect(exampleCodes(doc.paths['/webhooks/meta'].get)).toMatchObject({
      forbidden: 403,
      invalid_request: 400,
    });
    // /metrics: open, or METRICS_TOKEN (its own scheme) with a 401 when the token is wrong.
    expect(exampleCodes(doc.paths['/metrics'].get)).toMatchObject({ unauthorized: 401 });
    expect(doc.paths['/metrics'].get.security).toEqual(expect.arrayContaining([{}, { metricsToken: [] }]));
    expect(doc.components.securitySchemes.metricsToken).toMatchObject({ type: 'http', scheme: 'bearer' });
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
  /** Every operation of the document, as [method, path, operation]. */
  const operations = (): [string, string, Operation][] =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]): [string, string, Operation] => [method, path, op]),
    );

  it('declares exactly one Idempotency-Key on send, optional, and no other parameter', () => {
    const params = doc.paths['/v1/otp/send'].post.parameters ?? [];
    expect(params.map((p) => [p.name.toLowerCase(), p.in, p.required ?? false])).toEqual([
      ['idempotency-key', 'header', false],
    ]);
  });

  it('labels the bearer schemes as opaque secrets, not JWTs', () => {
    for (const [name, scheme] of Object.entries(doc.components.securitySchemes)) {
      expect([name, scheme.type, scheme.scheme, scheme.bearerFormat]).toEqual([
        name,
        'http',
        'bearer',
        undefined,
      ]);
    }
  });

  it('gives every response X-Request-Id, every 429 and 503 Retry-After, every error the ErrorResponse schema', () => {
    expect(doc.components as unknown as { headers: Json }).toHaveProperty(['headers', 'X-Request-Id']);
    for (const [method, path, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        const where = `${method} ${path} ${status}`;
        expect([where, response.headers?.['X-Request-Id']?.$ref]).toEqual([
          where,
          '#/components/headers/X-Request-Id',
        ]);
        if (status === '429' || (status === '503' && path !== '/health/ready')) {
          expect([where, Object.keys(response.headers ?? {})]).toEqual([
            where,
            expect.arrayContaining(['Retry-After']),
          ]);
        }
        if (Number(status) >= 400 && path !== '/health/ready') {
          expect([where, response.content?.['application/json']?.schema?.$ref]).toEqual([
            where,
            '#/components/schemas/ErrorResponse',
          ]);
        }
      }
    }
  });

  it('documents 401/413/415/429/500/503 on send and verify, 401/500/503 on status, and body + errors on each webhook', () => {
    const statuses = (op: Operation) => Object.keys(op.responses);
    for (const path of ['/v1/otp/send', '/v1/otp/verify']) {
      expect(statuses(doc.paths[path].post)).toEqual(
        expect.arrayContaining(['400', '401', '413', '415', '429', '500', '503']),
      );
    }
    expect(statuses(doc.paths['/v1/otp/{id}'].get)).toEqual(
      expect.arrayContaining(['401', '404', '500', '503']),
    );
    for (const [, path] of WEBHOOK_ROUTES) {
      const op = doc.paths[path].post;
      expect(op.requestBody?.required).toBe(true);
      expect(op.requestBody?.content['application/json'].schema.type).toBe('object');
      expect(statuses(op)).toEqual(expect.arrayContaining(['200', '400', '401', '413', '415', '500', '503']));
      expect(exampleCodes(op)).toMatchObject({ invalid_signature: 401, payload_too_large: 413 });
    }
    // Every operation, probes and metrics included, knows the transport errors.
    for (const [method, path, op] of operations()) {
      expect([method, path, statuses(op)]).toEqual([
        method,
        path,
        expect.arrayContaining(['408', '414', '431', '500']),
      ]);
    }
  });

  it('shows every contract error code, each under its own status, somewhere in the document', () => {
    const all = new Map<string, Set<number>>();
    for (const [, , op] of operations()) {
      for (const [code, status] of Object.entries(exampleCodes(op))) {
        all.set(code, (all.get(code) ?? new Set()).add(status));
      }
    }
    const enumCodes = doc.components.schemas.ErrorCode.enum as string[];
    // The service's own list covers the contract's, and the document covers the service's.
    expect(Object.keys(ERROR_STATUS)).toEqual(expect.arrayContaining(CONTRACT_CODES));
    // forbidden belongs to GET /webhooks/meta (the Meta handshake): an example once that route exists.
    const perOperation = (code: string) =>
      !PATH_LEVEL_ERRORS.includes(code as never) && (code !== 'forbidden' || '/webhooks/meta' in doc.paths);
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect([code, enumCodes.includes(code)]).toEqual([code, true]);
      if (perOperation(code)) {
        // verify's not_found is a 400 (the route exists, the code does not); elsewhere a 404.
        expect([code, all.get(code)?.has(status)]).toEqual([code, true]);
      } else if (PATH_LEVEL_ERRORS.includes(code as never)) {
        expect([code, doc.info.description.includes(`\`${code}\``)]).toEqual([code, true]);
      }
    }
  });

  it('generates types with openapi-typescript that an openapi-fetch client type-checks against and runs with', async () => {
    const dir = join(process.cwd(), 'node_modules', '.cache', `openapi-client-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
      execFileSync(
        process.execPath,
        [
          join(process.cwd(), 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
          'openapi.json',
          '-o',
          'schema.d.ts',
        ],
        { cwd: dir, stdio: 'pipe' },
      );
      writeFileSync(join(dir, 'client.ts'), CLIENT_SOURCE);
      const program = ts.createProgram([join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        types: [],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems).toEqual([]);
      // The same client, run: send → verify → status against this app.
      const js = ts.transpileModule(CLIENT_SOURCE, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(join(dir, 'client.mjs'), js);
      const client = (await import(join(dir, 'client.mjs'))) as {
        flow: (
          baseUrl: string,
          key: string,
          phone: string,
          codeOf: (id: string) => Promise<string>,
        ) => Promise<{ sent: string; verified: boolean; status: string; wrong: string; missing: string }>;
      };
      const result = await client.flow(t.url, API_KEY, uniquePhone(), issuedCode);
      expect(result).toEqual({
        sent: 'pending',
        wrong: 'invalid_code',
        verified: true,
        status: 'verified',
        missing: 'not_found',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const redocly = findRedocly();
  if (!redocly.bin) console.warn(`Redocly lint skipped: ${redocly.reason}`);
  (redocly.bin ? it : it.skip)('has no errors under Redocly’s recommended ruleset', () => {
    const dir = join(process.cwd(), 'node_modules', '.cache', `openapi-lint-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      writeFileSync(join(dir, 'redocly.yaml'), 'extends:\n  - recommended\n');
      let output = '';
      let status = 0;
      try {
        output = execFileSync(
          redocly.bin as string,
          ['lint', '--format', 'json', '--config', join(dir, 'redocly.yaml'), join(dir, 'openapi.json')],
          {
            cwd: dir,
            env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
      } catch (error) {
        status = (error as { status: number }).status;
        output = String((error as { stdout: string }).stdout);
      }
      const report = JSON.parse(output.slice(output.indexOf('{'))) as {
        problems: { ruleId: string; severity: string; message: string }[];
      };
      const errors = report.problems
        .filter((p) => p.severity === 'error')
        .map((p) => `${p.ruleId}: ${p.message}`);
      const warnings = report.problems
        .filter((p) => p.severity !== 'error')
        .map((p) => `${p.ruleId}: ${p.message}`);
      if (warnings.length > 0) console.warn(`Redocly warnings (not errors):\n${warnings.join('\n')}`);
      expect(errors).toEqual([]);
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('405 method_not_allowed for a known path with another method', () => {
  it.each([
    ['GET', '/v1/otp/send', 'POST'],
    ['GET', '/v1/otp/verify', 'POST'],
    ['PUT', '/v1/otp/send', 'POST'],
    ['DELETE', '/v1/otp/0b9f3c2e-7d1a-4f8e-9a51-2c6f0d3e4b7a', 'GET, HEAD'],
    ['POST', '/health/live', 'GET, HEAD'],
    ['GET', '/webhooks/sinch', 'POST'],
    ['POST', '/docs-json', 'GET, HEAD'],
  ])('%s %s answers 405 with Allow: %s, in the error shape', async (method, path, allow) => {
    const res = await t.request(method, path, { auth: false });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.body).toEqual({
      statusCode: 405,
      code: 'method_not_allowed',
      message: `Method not allowed; use ${allow}`,
    });
  });

  it('leaves the allowed methods and unknown paths alone', async () => {
    const status = await t.request('GET', '/v1/otp/0b9f3c2e-7d1a-4f8e-9a51-2c6f0d3e4b7a');
    expect([status.status, status.body.code]).toEqual([404, 'not_found']);
    const unknown = await t.request('GET', '/v1/otp/send/extra');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'route_not_found']);
    const live = await t.request('GET', '/health/live', { auth: false });
    expect(live.status).toBe(200);
  });
});

/** @redocly/cli is an optional tool (not a dependency): REDOCLY_BIN, node_modules/.bin or PATH. */
function findRedocly(): { bin?: string; reason?: string } {
  const candidates = [
    process.env.REDOCLY_BIN,
    join(process.cwd(), 'node_modules', '.bin', 'redocly'),
    ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'redocly')),
  ].filter((c): c is string => !!c);
  const bin = candidates.find((c) => existsSync(c));
  return bin
    ? { bin }
    : { reason: 'no redocly binary (install @redocly/cli and set REDOCLY_BIN, or put redocly on PATH)' };
}

/**
 * A client a backend developer would write from the generated types: every call goes through the
 * documented paths, bodies and parameters only, and reads error codes from the documented schema.
 */
const CLIENT_SOURCE = `
import createClient from 'openapi-fetch';
import type { paths, components } from './schema.js';

type ErrorCode = components['schemas']['ErrorCode'];

export async function flow(
  baseUrl: string,
  key: string,
  phone: string,
  codeOf: (id: string) => Promise<string>,
): Promise<{ sent: string; verified: boolean; status: string; wrong: ErrorCode | undefined; missing: ErrorCode | undefined }> {
  const client = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + key } });
  const sent = await client.POST('/v1/otp/send', { body: { phone, purpose: 'generated' } });
  if (!sent.data) throw new Error('send failed: ' + JSON.stringify(sent.error));
  const id: string = sent.data.id;
  const code = await codeOf(id);
  const wrongCode = code === '000000' ? '111111' : '000000';
  const wrong = await client.POST('/v1/otp/verify', { body: { phone, code: wrongCode, purpose: 'generated' } });
  const verified = await client.POST('/v1/otp/verify', { body: { phone, code, purpose: 'generated' } });
  if (!verified.data) throw new Error('verify failed: ' + JSON.stringify(verified.error));
  const status = await client.GET('/v1/otp/{id}', { params: { path: { id } } });
  if (!status.data) throw new Error('status failed');
  const missing = await client.GET('/v1/otp/{id}', {
    params: { path: { id: '0b9f3c2e-7d1a-4f8e-9a51-2c6f0d3e4b7a' } },
  });
  return {
    sent: sent.data.status,
    wrong: wrong.error?.code,
    verified: verified.data.verified,
    status: status.data.status,
    missing: missing.error?.code,
  };
}
`;
