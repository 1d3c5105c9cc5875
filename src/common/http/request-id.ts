import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * One id per request, shared by Fastify, the logger and the X-Request-Id response header: the
 * caller's X-Request-Id when it is sane, else a new uuid.
 */
export function requestIdOf(req: IncomingMessage): string {
  const r = req as IncomingMessage & { id?: unknown };
  if (typeof r.id === 'string' && r.id) return r.id;
  const header = req.headers['x-request-id'];
  const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
  r.id = id;
  return id;
}
