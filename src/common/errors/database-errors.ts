/**
 * Recognises "the database cannot be reached" among the shapes it arrives in: pg socket errors,
 * PostgreSQL connection-class SQLSTATEs, Prisma driver-adapter errors and Prisma client codes.
 * These become 503 service_unavailable rather than 500.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionAlreadyClosed',
]);
const MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  "Can't reach database server",
  'Client has encountered a connection error',
  'terminating connection',
  'Connection ended unexpectedly',
  // @prisma/adapter-pg when a pooled connection's socket was closed under it (P2010 wraps this).
  'Server has closed the connection',
  'Query read timeout',
  'database system is starting up',
  'database system is shutting down',
];

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && (NETWORK_CODES.has(code) || PRISMA_CODES.has(code))) return true;
  // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash, cannot connect now).
  if (code && (/^08...$/.test(code) || /^57P0[123]$/.test(code))) return true;
  if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
  if (e.name === 'PrismaClientInitializationError') return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => (e.message as string).includes(m))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}
