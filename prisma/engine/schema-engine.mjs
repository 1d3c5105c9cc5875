#!/usr/bin/env node
/**
 * Offline stand-in for Prisma's native `schema-engine` binary (PostgreSQL only).
 *
 * WHY: every Prisma 7 CLI command that touches the schema (`generate`, `migrate dev|deploy|status|
 * diff|reset|resolve`, `db push|pull`, ...) first looks for the native schema-engine executable and,
 * when it is missing, downloads it from Prisma's binary host. Machines that reach only the npm
 * registry cannot. Prisma's own override is `PRISMA_SCHEMA_ENGINE_BINARY=<executable>`, which
 * `prisma.config.ts` points at this file (unless `PRISMA_NATIVE_ENGINE=true`). This file runs the
 * same engine compiled to WebAssembly (`@prisma/schema-engine-wasm`, the build matching the 7.10
 * CLI's protocol) and reaches PostgreSQL through `@prisma/adapter-pg`.
 *
 * PROTOCOL (what the CLI expects from the native binary):
 * - Spawned as `schema-engine [--datamodels <file>]... [--datasource '<json {url, shadowDatabaseUrl}>']`,
 *   it speaks JSON-RPC 2.0 over stdin/stdout, one JSON object per line, until stdin closes.
 *   Method names are the wasm `SchemaEngine` methods, except `getDatabaseVersion` (-> `version`).
 *   `diff` is special: its text goes to the CLI as a JSON-RPC *request* `{method: "print",
 *   params: {content}}` (the CLI prints it and answers), then the result `{exitCode}` follows.
 *   Errors are JSON-RPC errors with `data: {is_panic, message, error_code, meta}`; exit code 101
 *   means "panicked".
 * - Spawned one-shot as `schema-engine --datasource '<json>' cli can-connect-to-database|create-database`:
 *   exit 0 on success, 1 on failure. The CLI skips the first stderr line and parses every other
 *   one as a JSON log line `{level, target, fields: {message, error_code}}`.
 * - `schema-engine --version` prints `schema-engine-cli <hash>` (shown by `prisma -v`).
 * stdout carries nothing but protocol output: every log goes to stderr, one JSON object per line.
 *
 * WORKAROUNDS (all scoped to this process; the application's PrismaClient is untouched):
 * 1. `@prisma/adapter-pg` 7.10 rejects result columns of the catalog types `"char"` (oid 18),
 *    `name` (19) and `name[]` (1003), which introspection reads ("Column type 'char' could not be
 *    deserialized"). Their text encoding equals `text` / `text[]`, so row descriptions are
 *    relabelled before the adapter sees them (`CatalogSafeClient`).
 * 2. The adapter's `connectToShadowDb()` drops the shadow database while its own pool is still
 *    connected to it. The shadow database is created and dropped here instead (pool closed
 *    first); a configured `shadowDatabaseUrl` is emptied and used as is, like the native engine.
 * 3. The adapter's `executeScript` splits scripts on every `;`, breaking migrations with `;` in
 *    strings or `$$` bodies. Scripts are sent whole (one simple query = one implicit transaction
 *    per migration, as with the native engine).
 * 4. The wasm engine's `evaluateDataLoss` / `createMigration` can fail in `migrate dev` after
 *    pending migrations were applied (see `NEEDS_SHADOW_SCHEMA`); the history is then replayed
 *    on a shadow database through `devDiagnostic` and the call retried once.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';

const log = (level, message, extra = {}) =>
  process.stderr.write(
    `${JSON.stringify({ timestamp: new Date().toISOString(), level, target: 'schema_engine::logger', fields: { message, ...extra } })}\n`,
  );

// A dependency printing with console.log must not corrupt the JSON-RPC stream on stdout, and
// Node warnings must not break the CLI's parsing of stderr as JSON lines.
console.log = console.info = console.debug = console.error;
process.removeAllListeners('warning').on('warning', (warning) => log('WARN', String(warning.message)));

function parseArgs(argv) {
  const args = { datamodels: [], datasource: {}, cliCommand: null, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--datamodels') args.datamodels.push(argv[++i]);
    else if (arg === '--datasource') args.datasource = JSON.parse(argv[++i]);
    else if (arg === '--version' || arg === '-V') args.version = true;
    else if (arg === 'cli') args.cliCommand = argv[++i];
    else if (arg.startsWith('--')) i++; // --enabled-preview-features, --extension-types: not needed
  }
  return args;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL access (workarounds 1-3)
// ---------------------------------------------------------------------------------------------
const TEXT_LIKE_OIDS = new Map([
  [18, 25], // "char" -> text
  [19, 25], // name   -> text
  [1003, 1009], // name[] -> text[]
]);

if (typeof pg.Client.prototype._handleRowDescription !== 'function') {
  throw new Error(
    'schema-engine stand-in: pg.Client#_handleRowDescription is gone; re-check workaround 1 for this pg version',
  );
}

/** Workaround 1: a pg client that reports catalog text-like columns as text / text[]. */
class CatalogSafeClient extends pg.Client {
  _handleRowDescription(msg) {
    for (const field of msg.fields)
      field.dataTypeID = TEXT_LIKE_OIDS.get(field.dataTypeID) ?? field.dataTypeID;
    super._handleRowDescription(msg);
  }
}

const schemaOf = (url) => new URL(url).searchParams.get('schema') || 'public';
const databaseOf = (url) => decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
const withDatabase = (url, database) =>
  Object.assign(new URL(url), { pathname: `/${encodeURIComponent(database)}` }).toString();
const quoteIdent = (name) => `"${name.replaceAll('"', '""')}"`;

/** An adapter-pg connection (unbound: bindMigrationAwareSqlAdapterFactory wraps it). */
async function connectAdapter(url) {
  // A pool *config* (not a pg.Pool), so adapter-pg owns and ends the pool even with another pg copy.
  // Like the native engine, run unqualified SQL (migration scripts) in the URL's `?schema=`.
  const schema = schemaOf(url);
  const config = {
    connectionString: url,
    Client: CatalogSafeClient,
    options: `-c search_path=${quoteIdent(schema)}`,
  };
  const factory = new PrismaPg(config, { schema });
  const adapter = await factory.connect();
  // Workaround 3: send migration scripts whole instead of split on ';'.
  adapter.executeScript = async (script) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (error) {
      adapter.onError(error); // rethrows as a DriverAdapterError, like the original
    }
  };
  return adapter;
}

/** Runs one statement on a short-lived connection (CREATE / DROP DATABASE, SELECT 1). */
async function runOnce(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs `sql` on the server's maintenance database (the target database may not exist). */
async function runOnServer(url, sql) {
  try {
    return await runOnce(withDatabase(url, 'postgres'), sql);
  } catch (error) {
    if (error.code !== '3D000') throw error;
    return runOnce(withDatabase(url, 'template1'), sql);
  }
}

/** The migration-aware adapter factory handed to the wasm engine. */
function adapterFactory({ url, shadowDatabaseUrl }) {
  const mainUrl = () => {
    if (!url) throw new Error('No datasource URL: set `datasource.url` in prisma.config.ts.');
    return url;
  };
  return bindMigrationAwareSqlAdapterFactory({
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectAdapter(mainUrl()),
    // Workaround 2.
    async connectToShadowDb() {
      if (shadowDatabaseUrl) {
        const [main, shadow] = [new URL(mainUrl()), new URL(shadowDatabaseUrl)];
        if (main.host === shadow.host && main.pathname === shadow.pathname) {
          throw new Error('The shadow database you configured appears to be the same as the main database.');
        }
        const adapter = await connectAdapter(shadowDatabaseUrl);
        const { rows } = await adapter
          .underlyingDriver()
          .query(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
          );
        const drops = rows.map((r) => `DROP SCHEMA ${quoteIdent(r.nspname)} CASCADE;`).join('\n');
        await adapter.executeScript(
          `${drops}\nCREATE SCHEMA IF NOT EXISTS ${quoteIdent(schemaOf(shadowDatabaseUrl))};`,
        );
        return adapter;
      }
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      await runOnce(mainUrl(), `CREATE DATABASE ${quoteIdent(name)}`);
      const adapter = await connectAdapter(withDatabase(mainUrl(), name));
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose(); // close the pool first, then the database can be dropped
        await runOnce(mainUrl(), `DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      };
      return adapter;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// One-shot `cli` commands (plain pg, no wasm)
// ---------------------------------------------------------------------------------------------
async function runCliCommand(command, { url }) {
  log('INFO', `schema-engine wasm stand-in: cli ${command}`); // first stderr line: skipped by the CLI
  try {
    if (!url) throw new Error('No datasource URL given (--datasource).');
    if (command === 'can-connect-to-database') await runOnce(url, 'SELECT 1');
    else if (command === 'create-database')
      await runOnServer(url, `CREATE DATABASE ${quoteIdent(databaseOf(url))}`);
    else if (command === 'drop-database')
      await runOnServer(url, `DROP DATABASE IF EXISTS ${quoteIdent(databaseOf(url))}`);
    else throw new Error(`Unsupported cli command: ${command}`);
    return 0;
  } catch (error) {
    // Same error codes as the native engine, so that e.g. `migrate dev` creates a missing database (P1003).
    const host = url && URL.canParse(url) ? new URL(url).host : 'the database server';
    const known = {
      '3D000': [
        'P1003',
        `Database \`${url && databaseOf(url)}\` does not exist on the database server at \`${host}\`.`,
      ],
      '28P01': ['P1000', `Authentication failed against database server at \`${host}\`.`],
      28000: ['P1000', `Authentication failed against database server at \`${host}\`.`],
      '42P04': [
        'P1009',
        `Database \`${url && databaseOf(url)}\` already exists on the database server at \`${host}\`.`,
      ],
      ECONNREFUSED: ['P1001', `Can't reach database server at \`${host}\``],
      ENOTFOUND: ['P1001', `Can't reach database server at \`${host}\``],
      ETIMEDOUT: ['P1001', `Can't reach database server at \`${host}\``],
    }[error.code];
    log('ERROR', known?.[1] ?? String(error.message), known ? { error_code: known[0] } : {});
    return 1;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC server around the wasm engine
// ---------------------------------------------------------------------------------------------
async function loadWasmBindings() {
  // `schema_engine.js` does `import * as wasm from './schema_engine_bg.wasm'`, which Node 20 cannot
  // load without --experimental-wasm-modules: instantiate the module by hand instead.
  const bgUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bindings = await import(bgUrl);
  const bytes = await readFile(new URL('schema_engine_bg.wasm', bgUrl));
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bindings });
  bindings.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return bindings;
}

// The engine reports a Rust panic's message here before trapping with `RuntimeError: unreachable`.
let panicMessage = null;
globalThis.PRISMA_WASM_PANIC_REGISTRY = { set_message: (message) => (panicMessage = message) };

/**
 * Workaround 4: `evaluateDataLoss` / `createMigration` read the schema of the migration history
 * from a cache that only `devDiagnostic` fills (through the shadow database). In `migrate dev`
 * with unapplied migrations in the folder, devDiagnostic caches the applied ones, applyMigrations
 * applies the rest, and the next call misses the cache and fails with this message.
 */
const NEEDS_SHADOW_SCHEMA = /shadow DB must be provided through an external factory/;

function toRpcError(error, factory) {
  const isPanic = error instanceof WebAssembly.RuntimeError;
  // Plain JS errors thrown inside the adapter factory (e.g. from connectToShadowDb) wait in its
  // registry; the engine's own message does not include them, so append them.
  const jsErrors = factory.errorRegistry.registeredErrors
    .splice(0)
    .map((entry) => entry?.error?.message)
    .filter(Boolean);
  const message = [
    isPanic ? (panicMessage ?? String(error)) : String(error?.message ?? error),
    ...jsErrors,
  ].join('\n');
  return {
    code: 4466,
    message: 'An error happened. Check the data field for details.',
    data: { is_panic: isPanic, message, error_code: error?.code ?? null, meta: error?.meta ?? null },
  };
}

async function runRpcServer({ datamodels, datasource }, bindings) {
  const send = (message) =>
    new Promise((resolve) => process.stdout.write(`${JSON.stringify(message)}\n`, resolve));
  const factory = adapterFactory(datasource);
  let current = null; // the request being served (requests are served one at a time)

  const fail = async (id, error, exitCode) => {
    log('ERROR', String(error?.message ?? error));
    await send({ jsonrpc: '2.0', id, error: error?.rpcError ?? toRpcError(error, factory) });
    if (exitCode !== undefined) process.exit(exitCode);
  };
  // Input the wasm bindings cannot deserialize throws outside of the awaited promise.
  process.on('uncaughtException', (error) =>
    current ? fail(current.id, error, 1) : (log('ERROR', String(error)), process.exit(1)),
  );

  let engine;
  let startupError; // e.g. database unreachable: reported on every request, like the native engine
  try {
    const files = await Promise.all(datamodels.map(async (path) => [path, await readFile(path, 'utf8')]));
    const engineLog = (line) => process.stderr.write(`${String(line).trimEnd()}\n`);
    engine = await bindings.SchemaEngine.new(
      { datamodels: files.length ? files : undefined },
      engineLog,
      factory,
    );
  } catch (error) {
    startupError = error;
  }

  // Calls from this process to the CLI (only `print`), with their own ids.
  const pendingCalls = new Map();
  let nextCallId = 1;
  const callCli = (method, params) =>
    new Promise((resolve) => {
      const id = `stand-in-${nextCallId++}`;
      pendingCalls.set(id, resolve);
      send({ jsonrpc: '2.0', id, method, params });
    });

  async function dispatch(method, params) {
    if (startupError) throw startupError;
    if (method === 'getDatabaseVersion') return engine.version(params ?? null);
    if (method === 'diff') {
      const { stdout, ...rest } = await engine.diff(params);
      if (stdout) await callCli('print', { content: stdout });
      return rest;
    }
    if (method === 'free' || method === 'constructor' || typeof engine[method] !== 'function') {
      throw Object.assign(new Error(`Unsupported method: ${method}`), {
        rpcError: { code: -32601, message: `Method not found: ${method}` },
      });
    }
    // Call as `engine[method](...)`: wasm-bindgen methods need `this`.
    const run = async () => (await engine[method](params)) ?? {};
    try {
      return await run();
    } catch (error) {
      if (!NEEDS_SHADOW_SCHEMA.test(String(error?.message)) || !params?.migrationsList) throw error;
      await engine.devDiagnostic({ migrationsList: params.migrationsList, filters: params.filters }); // workaround 4
      return run();
    }
  }

  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    if (!msg.method) {
      pendingCalls.get(msg.id)?.(msg.result); // the CLI's answer to one of our calls
      pendingCalls.delete(msg.id);
      return;
    }
    queue = queue.then(async () => {
      current = msg;
      try {
        await send({ jsonrpc: '2.0', id: msg.id, result: await dispatch(msg.method, msg.params) });
      } catch (error) {
        // A panicked wasm instance cannot be used again: exit with the native engine's panic code.
        await fail(msg.id, error, error instanceof WebAssembly.RuntimeError ? 101 : undefined);
      } finally {
        current = null;
      }
    });
  });
  lines.on('close', () => queue.then(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------
const args = parseArgs(process.argv.slice(2));
if (args.cliCommand) {
  process.exitCode = await runCliCommand(args.cliCommand, args.datasource);
} else {
  const bindings = await loadWasmBindings();
  if (args.version) process.stdout.write(`schema-engine-cli ${bindings.version()}\n`);
  else await runRpcServer(args, bindings);
}
