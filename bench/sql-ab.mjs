#!/usr/bin/env node
// The SQL alone, before and after a change: pgbench on a base revision's send.sql and verify.sql
// (its migrations, its statements) against the working tree's, in alternating pairs, each run on
// a fresh copy of a seeded database. Issue 14's budget ("nothing may cost more than 10 % of the
// send or verify throughput") at the database, where this machine's noise is smallest; the
// service's side is `npm run bench -- --ceiling`.
//
//   node bench/sql-ab.mjs --base 24a702b [--pairs 3] [--only send|verify]
//
// Order per pair: base, head, head, base, … (so a drift in the machine's speed falls on both).
// Prints each run's tps and, per script, the medians and head ÷ base. Nothing is written.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedPgbenchVerifyRows } from './lib/databases.mjs';
import { cleanup, databases, installExitHandlers } from './lib/lifecycle.mjs';
import { readProc } from './lib/machine.mjs';
import { pgbench } from './lib/pgbench.mjs';
import { PG_URL, PGBENCH_S, ROOT } from './lib/settings.mjs';
import { psql, sh } from './lib/shell.mjs';
import { fmt, log, sleep } from './lib/util.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const BASE = arg('--base');
// --base-dir: instead of a revision, the working tree's schema with the base's scripts from a folder
// (two forms of a statement on one schema).
const BASE_DIR = arg('--base-dir') && path.resolve(arg('--base-dir'));
const PAIRS = Number(arg('--pairs', '3'));
const SCRIPTS = arg('--only') ? [arg('--only')] : ['send', 'verify'];
// --head-dir: the head's scripts from another folder (trying a variant of a statement before changing src/)
const HEAD_DIR = path.resolve(arg('--head-dir', path.join(ROOT, 'bench', 'pgbench')));
if (!(BASE || BASE_DIR) || !(PAIRS > 0) || SCRIPTS.some((s) => !['send', 'verify'].includes(s))) {
  log(
    'usage: node bench/sql-ab.mjs --base <git revision> | --base-dir <folder> [--head-dir <folder>] [--pairs N] [--only send|verify]',
  );
  process.exit(64);
}
installExitHandlers();

const git = (...args) => sh('git', args, { label: `git ${args[0]}` }).out;
const tag = `otp_sqlab_${process.pid}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sql-ab-'));

/** An empty database, dropped on the way out. */
function createDatabase(suffix) {
  const db = `${tag}_${suffix}`;
  psql('postgres', `CREATE DATABASE "${db}"`);
  databases.push(db);
  return db;
}

/** A database with the base revision's migrations (plain SQL, applied in order) and graphile-worker's schema. */
function baseTemplate() {
  const db = createDatabase('base');
  const migrations = git('ls-tree', '--name-only', `${BASE}:prisma/migrations`)
    .split('\n')
    .filter((m) => /^\d+_/.test(m))
    .sort();
  // Each file in one psql -c, as Prisma applies a migration (one transaction).
  for (const m of migrations) psql(db, git('show', `${BASE}:prisma/migrations/${m}/migration.sql`));
  sh('npx', ['graphile-worker', '--schema-only'], {
    env: { ...process.env, DATABASE_URL: PG_URL(db) },
    label: 'graphile-worker --schema-only',
  });
  return db;
}

/** A database migrated by the working tree's own command. */
function headTemplate() {
  const db = createDatabase('head');
  sh('npm', ['run', '--silent', 'db:migrate'], {
    env: { ...process.env, DATABASE_URL: PG_URL(db) },
    label: 'npm run db:migrate',
  });
  return db;
}

const head = { template: headTemplate(), dir: HEAD_DIR };
const sides = {
  base: BASE_DIR ? { ...head, dir: BASE_DIR } : { template: baseTemplate(), dir: path.join(dir, 'scripts') },
  head,
};
if (!BASE_DIR) {
  mkdirSync(sides.base.dir);
  for (const s of SCRIPTS)
    writeFileSync(path.join(sides.base.dir, `${s}.sql`), git('show', `${BASE}:bench/pgbench/${s}.sql`));
}
for (const template of new Set(Object.values(sides).map((s) => s.template))) seedPgbenchVerifyRows(template);

/**
 * PostgreSQL's CPU, in seconds: the postmaster's children's user + system time. A backend's CPU is
 * added there when it exits, so read before pgbench connects and after it disconnected, the
 * difference is what the run's backends (and any autovacuum worker) spent: a steadier measure of
 * the SQL's cost than tps on a shared machine (time stolen by other guests is not in it).
 */
const postmaster = readFileSync(
  path.join(psql('postgres', 'SHOW data_directory'), 'postmaster.pid'),
  'utf8',
).split('\n')[0];
const childrenCpuS = () => readProc(postmaster).childrenCpuTicks / 100; // USER_HZ
const walBytes = () => Number(psql('postgres', 'SELECT wal_bytes FROM pg_stat_wal'));

/** One pgbench run on a fresh copy of the side's seeded template: its tps and PostgreSQL's CPU µs per transaction. */
async function run(name, script) {
  const db = `${tag}_run`;
  psql('postgres', `DROP DATABASE IF EXISTS "${db}"`);
  psql('postgres', `CREATE DATABASE "${db}" TEMPLATE "${sides[name].template}"`);
  psql(db, 'CHECKPOINT');
  const cpu0 = childrenCpuS();
  const wal0 = walBytes();
  const r = pgbench(`${script} ${name}`, [path.join(sides[name].dir, `${script}.sql`)], db);
  await sleep(500); // the backends exit and are reaped
  const cpuUs = ((childrenCpuS() - cpu0) * 1e6) / r.transactions;
  const walPerTxn = (walBytes() - wal0) / r.transactions;
  psql('postgres', `DROP DATABASE "${db}"`);
  if (r.failed || r.aborted || !Number.isFinite(r.tps)) throw new Error(`${script} ${name}: pgbench failed`);
  log(
    `${script} ${name}: ${fmt(r.tps, 0)} tps, ${fmt(cpuUs, 0)} µs PostgreSQL CPU and ${fmt(walPerTxn, 0)} WAL bytes per transaction`,
  );
  return { tps: r.tps, cpuUs, walBytes: walPerTxn };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = {};
for (const script of SCRIPTS) {
  const runs = { base: [], head: [] };
  for (let p = 0; p < PAIRS; p++) {
    const order = p % 2 ? ['head', 'base'] : ['base', 'head'];
    for (const name of order) runs[name].push(await run(name, script));
  }
  results[script] = runs;
}

const rev = git('rev-parse', '--short', 'HEAD').trim();
const dirty = git('status', '--porcelain', '--', 'bench/pgbench', 'prisma').trim() ? ' + uncommitted' : '';
const against =
  HEAD_DIR === path.join(ROOT, 'bench', 'pgbench')
    ? `${rev}${dirty}`
    : `${path.relative(ROOT, HEAD_DIR)} on ${rev}${dirty}`;
console.log(
  `\nSQL alone, pgbench ${PGBENCH_S} s per run, ${PAIRS} alternating pairs: ${BASE ?? path.relative(ROOT, BASE_DIR)} against ${against}`,
);
console.log('| script | measure | base: median (runs) | head: median (runs) | head ÷ base |');
console.log('|---|---|---|---|---|');
for (const [script, runs] of Object.entries(results)) {
  for (const [key, label] of [
    ['tps', 'tps'],
    ['cpuUs', 'PostgreSQL CPU µs/transaction'],
    ['walBytes', 'WAL bytes/transaction'],
  ]) {
    const xs = (name) => runs[name].map((r) => r[key]);
    const list = (name) =>
      `${fmt(median(xs(name)), 0)} (${xs(name)
        .map((x) => fmt(x, 0))
        .join(', ')})`;
    const ratio = median(xs('head')) / median(xs('base'));
    console.log(`| ${script} | ${label} | ${list('base')} | ${list('head')} | ${fmt(ratio, 2)}× |`);
  }
}
cleanup();
