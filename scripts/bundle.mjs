// The production entry point: `tsc`'s output (dist/main.js and its imports, node_modules included)
// bundled by esbuild into one ES module, dist/main.bundle.mjs. Node 20 resolves, reads and compiles
// ES modules one file at a time and keeps no compile cache, so loading the thousands of files of the
// unbundled build took about half of the time from start to ready (bench/PROFILE.md, "Start-up").
// Run by `npm run build` after `tsc`; `npm start`, the Dockerfile and the process tests run the bundle.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, version } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Packages Nest and its libraries load only when present or only for features this service does
// not use (they are not installed); left as plain imports, their loaders' try/catch sees them
// missing at run time exactly as in the unbundled build. `typescript` is loaded only by
// cosmiconfig for TypeScript config files, which this service has none of (10 MB saved).
const external = [
  '@nestjs/microservices',
  '@nestjs/websockets',
  '@nestjs/platform-express',
  '@fastify/view',
  '@fastify/static',
  '@fastify/multipart',
  'typescript',
  'pg-native',
];

const result = await build({
  absWorkingDir: root,
  entryPoints: ['dist/main.js'],
  outfile: 'dist/main.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  // esbuild renames classes that share a name across modules (DeliveryService → DeliveryService2);
  // Nest's loggers and error messages read `Class.name`, so the original names are kept.
  keepNames: true,
  // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
process.stdout.write(
  `bundle: dist/main.bundle.mjs, ${(bytes / 2 ** 20).toFixed(1)} MB from ${Object.keys(result.metafile.inputs).length} files (esbuild ${version})\n`,
);
