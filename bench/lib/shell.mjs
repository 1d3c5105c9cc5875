// psql, pgbench, npm and friends as bounded child processes (spawnSync with a timeout each).
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { PG, ROOT } from './settings.mjs';

export function pgArgs(db, sql) {
  return ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-tAqc', sql];
}
export function psql(db, sql, timeout = 120_000) {
  const r = spawnSync('psql', pgArgs(db, sql), { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`psql failed (${sql.slice(0, 80)}…): ${r.stderr || r.error}`);
  return r.stdout.trim();
}
export function sh(cmd, args, { env, timeout = 180_000, label } = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, env: env ?? process.env, encoding: 'utf8', timeout });
  if (r.status !== 0) {
    throw new Error(
      `${label ?? cmd} failed (${r.error ?? `exit ${r.status}`}):\n${(r.stdout + r.stderr).slice(-3000)}`,
    );
  }
  return { out: r.stdout, ms: performance.now() - t0 };
}
export function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout || r.stderr || '').split('\n')[0].trim();
}
