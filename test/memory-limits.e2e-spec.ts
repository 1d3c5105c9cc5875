import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = process.cwd();
const read = (...parts: string[]) => readFileSync(join(root, ...parts), 'utf8');

/**
 * RSS outside V8's heap under `npm run bench` (RSS − heap total: 210 − 113 MB with the cap,
 * docs/operations.md, "Memory"): code, Prisma's WebAssembly query compiler, sockets, buffers.
 */
const OUTSIDE_V8_HEAP_MIB = 97;
/** What the limit keeps free over the worst case, so V8 collects before the kernel kills. */
const MIN_HEADROOM_MIB = 64;

/** `512Mi` / `1Gi` → MiB. */
function mib(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`unexpected quantity ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

describe('memory: Deployment limits and the V8 heap cap', () => {
  const deployment = parseAllDocuments(read('deploy', 'kubernetes', 'deployment.yaml'))
    .map((d) => d.toJSON() as Obj)
    .find((d) => d.kind === 'Deployment') as Obj;
  const app = deployment.spec.template.spec.containers[0] as Obj;
  const nodeOptions =
    (app.env as { name: string; value: string }[]).find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  const heapCap = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1]);

  it('caps the heap so heap + young generation + what lives outside V8 stays under the limit', () => {
    expect(heapCap).toBeGreaterThan(0);
    const limit = mib(app.resources.limits.memory as string);
    const request = mib(app.resources.requests.memory as string);
    // --max-old-space-size caps the old space only: V8 adds its young generation on top.
    const heapLimit =
      Number(
        execFileSync(process.execPath, [
          `--max-old-space-size=${heapCap}`,
          '-e',
          'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit))',
        ]),
      ) / 1048576;
    expect(heapLimit).toBeGreaterThanOrEqual(heapCap);
    expect(limit - (heapLimit + OUTSIDE_V8_HEAP_MIB)).toBeGreaterThanOrEqual(MIN_HEADROOM_MIB);
    expect(request).toBeLessThanOrEqual(limit);
    // The request covers the heap cap: the scheduler reserves what a busy pod uses.
    expect(request).toBeGreaterThanOrEqual(heapCap);
  });

  it('the container image ships the same heap cap (what npm run bench measures)', () => {
    const image = /^ENV NODE_OPTIONS=(.+)$/m.exec(read('Dockerfile'))?.[1] ?? '';
    expect(Number(/--max-old-space-size=(\d+)/.exec(image)?.[1])).toBe(heapCap);
    expect(read('bench', 'lib', 'processes.mjs')).toContain('NODE_OPTIONS: IMAGE_NODE_OPTIONS');
  });

  it('every NODE_OPTIONS the docs and manifests suggest keeps the heap cap', () => {
    const files = [
      'README.md',
      'Dockerfile',
      'docker-compose.yml',
      ...readdirSync(join(root, 'docs')).map((f) => join('docs', f)),
      ...readdirSync(join(root, 'deploy', 'kubernetes')).map((f) => join('deploy', 'kubernetes', f)),
    ];
    const offenders: string[] = [];
    for (const file of files) {
      for (const line of read(file).split('\n')) {
        // A runtime flag for the service (not the test runner's --experimental-vm-modules).
        if (/NODE_OPTIONS/.test(line) && /--enable-source-maps|--max-old-space-size/.test(line)) {
          if (!/--max-old-space-size=\d+/.test(line)) offenders.push(`${file}: ${line.trim()}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
