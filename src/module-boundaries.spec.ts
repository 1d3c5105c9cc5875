import path from 'node:path';
import {
  APP,
  cycles,
  documentedBlock,
  edges,
  imports,
  renderedBlock,
  SRC,
} from '../scripts/module-graph.mjs';

// The module contract of docs/architecture.md, read from the source (scripts/module-graph.mjs):
// no folder-level import cycle, another module only through its index.ts, and the dependency
// diagram in the docs is the graph of the code.
describe('module boundaries', () => {
  const all = imports();
  const graph = edges(all);

  it('reads the import graph of src/', () => {
    expect(graph).toEqual(
      expect.arrayContaining([
        [APP, 'otp'],
        ['otp', 'codes'],
        ['delivery', 'codes'],
      ]),
    );
  });

  it('finds cycles (a → b → a, and longer ones)', () => {
    expect(
      cycles([
        ['a', 'b'],
        ['b', 'a'],
        ['b', 'c'],
        ['c', 'a'],
        ['c', 'd'],
      ]),
    ).toEqual([
      ['a', 'b', 'a'],
      ['a', 'b', 'c', 'a'],
    ]);
  });

  it('has no folder-level import cycle under src/', () => {
    const found = cycles(graph).map((c) => c.join(' → '));
    expect(found).toEqual([]);
  });

  it('imports another module only through its index.ts', () => {
    // The two exceptions the ESLint boundary rules also make (eslint.config.js).
    const allowed = (from: string, file: string, target: string) =>
      (from === 'prisma' && target.startsWith('generated/')) ||
      (file === 'otp/otp.statements.ts' && target === 'delivery/queue/index.ts');
    const posix = (p: string) => p.split(path.sep).join('/');
    const offending = all
      .filter((i) => i.from !== i.to)
      .map((i) => ({
        ...i,
        file: posix(path.relative(SRC, i.file)),
        target: posix(path.relative(SRC, i.resolved.replace(/\.js$/, '.ts'))),
      }))
      .filter((i) => i.target !== `${i.to}/index.ts` && !allowed(i.from, i.file, i.target))
      .map((i) => `${i.file} imports ${i.specifier}`);
    expect(offending).toEqual([]);
  });

  it("docs/architecture.md's module diagram is the graph of the code (node scripts/module-graph.mjs --write)", () => {
    expect(documentedBlock()).toBe(renderedBlock(graph));
  });
});
