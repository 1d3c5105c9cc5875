// npm run build when dist/ is missing or older than src/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { NO_BUILD, ROOT } from './settings.mjs';
import { sh } from './shell.mjs';
import { log } from './util.mjs';

function newestMtime(dir, skip) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (skip(p)) continue;
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p, skip) : statSync(p).mtimeMs);
  }
  return newest;
}
export function buildIfStale() {
  const main = path.join(ROOT, 'dist', 'main.bundle.mjs');
  const generated = path.join(ROOT, 'src', 'generated');
  const srcNewest = Math.max(
    newestMtime(path.join(ROOT, 'src'), (p) => p.startsWith(generated) || p.endsWith('.spec.ts')),
    statSync(path.join(ROOT, 'prisma', 'schema.prisma')).mtimeMs,
  );
  const stale = !existsSync(main) || statSync(main).mtimeMs < srcNewest;
  if (!stale) return 'dist/ up to date';
  if (NO_BUILD && existsSync(main)) return 'dist/ older than src/ (--no-build: used as is)';
  log('building (npm run build)…');
  try {
    const { ms } = sh('npm', ['run', '--silent', 'build'], { label: 'npm run build', timeout: 240_000 });
    return `built (npm run build, ${(ms / 1000).toFixed(1)} s)`;
  } catch (error) {
    if (!existsSync(main)) throw error;
    log(
      `WARNING: npm run build failed; benchmarking the existing dist/:\n${String(error.message).slice(-800)}`,
    );
    return 'npm run build FAILED; existing dist/ used';
  }
}
