// `npm start`: builds first when dist/ is missing or older than the sources, then runs the
// production build (dist/main.bundle.mjs) in this same process, so signals and exit codes are the
// service's own. Without DATABASE_URL (and NODE_ENV not production) the service starts its
// embedded PostgreSQL (src/embedded/, docs/api.md A5); with it, it behaves exactly as before.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist', 'main.bundle.mjs');
// What the build reads. (A container image has no src/: it runs its bundle as is.)
const inputs = [
  'src',
  'prisma/schema.prisma',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/bundle.mjs',
  'scripts/published-values.mjs',
  // Read into the build where the build reads published example values (docs/api.md Decision 6).
  '.env.example',
  'docker-compose.yml',
  'deploy',
];

/** The newest modification time under `p` (src/generated/ is the build's own output). */
function newest(p) {
  let stat;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  if (p === path.join(root, 'src', 'generated')) return 0;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(p).map((name) => newest(path.join(p, name))));
}

if (fs.existsSync(path.join(root, 'src'))) {
  const built = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  const changed = Math.max(...inputs.map((p) => newest(path.join(root, p))));
  if (changed > built) {
    process.stdout.write(
      `building first: dist/ is ${built ? 'older than the sources' : 'missing'} (npm run build)\n`,
    );
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(npm, ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) {
      process.stderr.write(`Cannot start: npm run build failed (exit ${result.status ?? result.signal})\n`);
      process.exit(1);
    }
  }
}

await import(pathToFileURL(bundle).href);
