import type { FastifyInstance } from 'fastify';
import { answerOf } from '../errors/all-exceptions.filter.js';
import { DomainError } from '../errors/domain-error.js';

/**
 * 405 `method_not_allowed` with an `Allow` header for a known path called with another method
 * (Fastify answers those 404, and `GET /v1/otp/send` would even match `GET /v1/otp/:id`).
 * Call before any route is registered: the onRoute hook records every route's pattern, Nest's
 * and the ones mounted on Fastify directly (/docs) alike.
 *
 * The path's static routes decide first (as in Fastify's router, a static segment beats a
 * parameter): `/v1/otp/send` allows POST only, even though `GET /v1/otp/:id` would match it.
 */
export function answerMethodNotAllowed(fastify: FastifyInstance): void {
  const staticRoutes = new Map<string, Set<string>>();
  const parametric: { pattern: RegExp; methods: Set<string> }[] = [];

  fastify.addHook('onRoute', (route) => {
    const methods = ([] as string[]).concat(route.method).map((m) => m.toUpperCase());
    const url = route.url;
    if (url.includes('*')) return;
    if (!url.includes(':')) {
      const set = staticRoutes.get(url) ?? new Set<string>();
      methods.forEach((m) => set.add(m));
      staticRoutes.set(url, set);
      return;
    }
    const source = url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}$`);
    const existing = parametric.find((p) => p.pattern.source === pattern.source);
    if (existing) methods.forEach((m) => existing.methods.add(m));
    else parametric.push({ pattern, methods: new Set(methods) });
  });

  const allowed = (path: string): Set<string> | undefined => {
    const exact =
      staticRoutes.get(path) ?? staticRoutes.get(path.endsWith('/') ? path.slice(0, -1) : `${path}/`);
    if (exact) return exact;
    const methods = new Set<string>();
    for (const p of parametric) if (p.pattern.test(path)) p.methods.forEach((m) => methods.add(m));
    return methods.size > 0 ? methods : undefined;
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    const path = request.url.split('?', 1)[0];
    const methods = allowed(path);
    if (!methods || methods.has(request.method)) return done();
    const allow = [...methods].sort().join(', ');
    const { status, body } = answerOf(new DomainError('method_not_allowed', { params: { allow } }));
    void reply
      .code(status)
      .header('allow', allow)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(body);
  });
}
