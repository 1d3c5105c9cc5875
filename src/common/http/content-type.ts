import type { IncomingHttpHeaders } from 'node:http';
import { DomainError } from '../errors/domain-error.js';

/** `application/json`, with or without parameters (`; charset=utf-8`), in any letter case. */
export function isJsonContentType(header: string | undefined): boolean {
  return /^application\/json\s*(;.*)?$/i.test(header?.trim() ?? '');
}

/** A request carries a body when it says so: a non-zero Content-Length or a Transfer-Encoding. */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * JSON only (shared/docs API.md A7): a request with a body or a Content-Type that is not
 * `application/json` is `415 unsupported_media_type`, form-encoded included. A request with
 * neither passes: validation then names the missing fields.
 */
export function assertJsonRequest(headers: IncomingHttpHeaders): void {
  const type = headers['content-type'];
  if ((type !== undefined || hasBody(headers)) && !isJsonContentType(type)) {
    throw unsupportedMediaType();
  }
}

export function unsupportedMediaType(): DomainError {
  return new DomainError('unsupported_media_type');
}
