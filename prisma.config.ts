// Prisma 7 reads its settings here (it no longer reads .env itself, hence dotenv).
import 'dotenv/config';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// Prisma's CLI needs a native schema engine that it downloads from Prisma's binary host. Machines
// that reach only the npm registry (ours, and many locked-down networks) cannot, so by default
// every `prisma` command uses prisma/engine/schema-engine.mjs: Prisma's own schema engine compiled
// to WebAssembly. Set PRISMA_NATIVE_ENGINE=true to use the native binary instead.
if (process.env.PRISMA_NATIVE_ENGINE !== 'true') {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(
    new URL('./prisma/engine/schema-engine.mjs', import.meta.url),
  );
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // Optional here so `prisma generate` (run by postinstall and build) works without a database;
  // commands that need one fail with Prisma's own clear connection error.
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
