import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { TEST_ENV } from '../setup/test-env.js';
import { assertNoLeaks, rememberSecretsIn } from './log-leaks.js';

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

/** Appends each complete line of `stream` to `lines` (a line split across chunks stays whole). */
function collectLines(stream: NodeJS.ReadableStream | null, lines: string[]): void {
  let rest = '';
  stream?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  stream?.on('end', () => {
    if (rest) lines.push(rest);
    rest = '';
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Every service this test file spawned: their output is scanned for secrets once the file ends. */
const spawned: ServiceProcess[] = [];
const CONSOLE_PROVIDER_BANNER = '[DEVELOPMENT ONLY: console WhatsApp provider';
// The embedded mode's start-up banner (src/embedded/embedded-mode.ts): the one place a key is
// printed (Decision 5). Exempt exactly that block: its first line, three lines, its last line.
const EMBEDDED_BANNER_FIRST = '=== whatsapp-otp-service: embedded development mode ===';
const EMBEDDED_BANNER_LAST = '=== (development only: set DATABASE_URL to use your own PostgreSQL) ===';

/**
 * A service's log lines: stdout (pino) and stderr, minus the console provider's development
 * banners (it prints the message, code included, to stderr on purpose and never through the
 * logger) and the embedded mode's start-up banner on stdout.
 */
export function logLinesOf(svc: Pick<ServiceProcess, 'stdout' | 'stderr'>): string[] {
  const stderr: string[] = [];
  for (let i = 0; i < svc.stderr.length; i++) {
    if (svc.stderr[i].includes(CONSOLE_PROVIDER_BANNER)) i += 2;
    else stderr.push(svc.stderr[i]);
  }
  const stdout: string[] = [];
  for (let i = 0; i < svc.stdout.length; i++) {
    if (svc.stdout[i] === EMBEDDED_BANNER_FIRST && svc.stdout[i + 4] === EMBEDDED_BANNER_LAST) i += 4;
    else stdout.push(svc.stdout[i]);
  }
  return [...stdout, ...stderr];
}

const outputClosed = (svc: ServiceProcess) =>
  Promise.all(
    [svc.child.stdout, svc.child.stderr].map(
      (stream) =>
        new Promise<void>((resolve) => {
          if (!stream || stream.closed) resolve();
          else stream.once('close', () => resolve());
        }),
    ),
  );

// Registered when a test file imports this module: runs after the file's own afterAll hooks.
afterAll(async () => {
  for (const svc of spawned) {
    if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
  }
  await Promise.all(spawned.map((svc) => svc.exited.then(() => outputClosed(svc))));
  spawned.forEach((svc, i) =>
    assertNoLeaks(logLinesOf(svc), `output of spawned service #${i + 1} (${svc.url})`),
  );
});

/** A secret as an operator generates one (`openssl rand -base64 48`): never a published value. */
export function generatedSecret(): string {
  return randomBytes(36).toString('base64url');
}

/**
 * NODE_ENV=production with freshly generated secrets (production refuses published, short or
 * low-entropy ones: src/config/production-safety.ts) and a DNZ chain pointed at `dnzUrl` (nothing
 * listens there unless a test starts a fake). `apiKey` becomes client `acme`'s key.
 */
export function productionEnv(
  apiKey = generatedSecret(),
  dnzUrl = 'http://127.0.0.1:9',
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    CLIENT_API_KEYS: `acme:${apiKey}`,
    OTP_HASH_SECRET: generatedSecret(),
    OTP_PROVIDERS: 'dnz',
    WHATSAPP_OTP_ENGINE_URL: dnzUrl,
    WHATSAPP_OTP_API_KEY: generatedSecret(),
  };
}

/** Runs the production build (`node dist/main.bundle.mjs`, what the image runs) as its own process. */
export function spawnService(env: Record<string, string | undefined>, port = 0): ServiceProcess {
  return spawnCommand(
    process.execPath,
    ['dist/main.bundle.mjs'],
    {
      PATH: process.env.PATH,
      ...TEST_ENV,
      DATABASE_URL: process.env.DATABASE_URL,
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    port,
  );
}

/**
 * Runs `command` with exactly `env` (nothing inherited) in `cwd`; its output is collected line by
 * line and scanned for secrets when the test file ends, like every spawned service's.
 */
export function spawnCommand(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  port: number,
  cwd = process.cwd(),
): ServiceProcess {
  rememberSecretsIn(env);
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout, stdout);
  collectLines(child.stderr, stderr);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const svc = { child, url: `http://127.0.0.1:${port}`, stdout, stderr, exited };
  spawned.push(svc);
  return svc;
}

export async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
