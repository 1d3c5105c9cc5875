import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * Swagger UI for Fastify without @fastify/static. SwaggerModule.setup's own UI registers
 * @fastify/static (not a dependency here: a missing package makes Nest call process.exit), so the
 * page and the few swagger-ui-dist files it needs are served from a fixed allow-list instead:
 * no path from the URL ever reaches the filesystem.
 */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** swagger-ui-dist ships with @nestjs/swagger; resolve it from there, as SwaggerModule does. */
function swaggerUiDistDir(): string {
  const fromHere = createRequire(import.meta.url);
  const swagger = createRequire(fromHere.resolve('@nestjs/swagger'));
  return dirname(swagger.resolve('swagger-ui-dist/package.json'));
}

/** Relative URLs, so the page also works behind a proxy that mounts the service under a prefix. */
function page(title: string, base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${title}</title>
  <link rel="stylesheet" href="${base}/swagger-ui.css">
  <link rel="icon" type="image/png" href="${base}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${base}/swagger-ui-bundle.js"></script>
  <script src="${base}/swagger-ui-init.js"></script>
</body>
</html>
`;
}

// Keys typed into "Authorize" stay in the tab's memory only (persistAuthorization: false).
const initJs = (base: string) => `window.ui = SwaggerUIBundle({
  url: '${base}-json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: false,
});
`;

export function serveSwaggerUi(fastify: FastifyInstance, path: string, title: string): void {
  const dir = swaggerUiDistDir();
  const cache = new Map<string, Buffer>();
  const read = (file: string): Buffer => {
    let data = cache.get(file);
    if (!data) {
      data = readFileSync(join(dir, file));
      cache.set(file, data);
    }
    return data;
  };
  // Last segment of the mount path: /docs -> docs/swagger-ui.css, docs-json.
  const base = path.split('/').pop() ?? 'docs';
  const html = page(title, base);
  const init = initJs(base);
  fastify.get(path, (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  fastify.get(`${path}/swagger-ui-init.js`, (_request, reply) =>
    reply.type('application/javascript; charset=utf-8').send(init),
  );
  for (const [file, type] of Object.entries(ASSETS)) {
    fastify.get(`${path}/${file}`, (_request, reply) =>
      reply.type(type).header('cache-control', 'public, max-age=86400').send(read(file)),
    );
  }
}
