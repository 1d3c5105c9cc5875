// prisma/'s public surface: the global PrismaService, and the generated client's types and SQL
// helpers (src/generated/, which other modules do not import directly).
export { Prisma } from '../generated/prisma/client.js';
export * from '../generated/prisma/enums.js';
export * from './prisma.module.js';
export * from './prisma.service.js';
