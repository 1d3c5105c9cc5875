// Every way out of a run (success, error, Ctrl-C, the global watchdog) kills the children and drops
// the bench databases.
import { spawnSync } from 'node:child_process';
import { WATCHDOG_MS } from './settings.mjs';
import { pgArgs } from './shell.mjs';
import { log } from './util.mjs';

const children = new Set();
/** Databases to drop on the way out (createDatabases pushes each one it creates). */
export const databases = [];
let cleaned = false;
export function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const db of databases.splice(0)) {
    spawnSync('psql', pgArgs('postgres', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`), {
      timeout: 30_000,
    });
  }
}

/** Registers the cleanup on exit and signals, the unhandled-rejection exit and the watchdog. */
export function installExitHandlers() {
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      log(`\n${sig}: stopping children and dropping the bench databases`);
      cleanup();
      process.exit(130);
    });
  }
  process.on('unhandledRejection', (e) => {
    log('bench failed:', e?.stack ?? e);
    process.exit(1);
  });
  const watchdog = setTimeout(() => {
    log(`bench: watchdog (${WATCHDOG_MS / 1000} s) fired; aborting`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
}

export function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
