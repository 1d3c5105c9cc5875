import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = process.cwd();
const read = (...parts: string[]) => readFileSync(join(root, ...parts), 'utf8');

/**
 * Memory outside V8's old space, measured under `npm run bench` (docs/operations.md, "Memory"):
 * code, Prisma's WebAssembly query compiler, buffers and V8's young generation, which
 * --max-old-space-size does not cap. The limit must leave at least this much above the heap cap.
 */
const OUTSIDE_OLD_SPACE_MIB = 160;

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

  it('caps the heap, with the measured room outside it below the memory limit', () => {
    expect(heapCap).toBeGreaterThan(0);
    const limit = mib(app.resources.limits.memory as string);
    const request = mib(app.resources.requests.memory as string);
    expect(limit - heapCap).toBeGreaterThanOrEqual(OUTSIDE_OLD_SPACE_MIB);
    expect(request).toBeLessThanOrEqual(limit);
    // The request covers the heap cap: the scheduler reserves what a busy pod uses.
    expect(request).toBeGreaterThanOrEqual(heapCap);
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
