import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// The repository is all a user gets (issue 15): the contract lives in it, and no file points
// outside it or at a file that does not exist.
const root = process.cwd();
const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\0')
  .filter((f) => f && fs.existsSync(path.join(root, f)) && !f.endsWith('package-lock.json'));
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

describe('documentation', () => {
  it('no file links outside the repository (../shared)', () => {
    const offenders = tracked.filter(
      (f) => !f.startsWith('test/docs.') && /\.\.\/(\.\.\/)*shared\//.test(read(f)),
    );
    expect(offenders).toEqual([]);
  });

  it('every relative link in README.md and docs/ resolves to a file of the repository', () => {
    const docs = tracked.filter((f) => f === 'README.md' || /^docs\/.*\.md$/.test(f));
    const broken: string[] = [];
    for (const doc of docs) {
      for (const [, target] of read(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target)) continue;
        const file = path.normalize(path.join(path.dirname(doc), target.split('#')[0]));
        if (!fs.existsSync(path.join(root, file))) broken.push(`${doc} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('docs/api.md is the whole contract: v1, every amendment, the clarifications and the decisions', () => {
    const api = read('docs/api.md');
    for (const heading of [
      '## Endpoints',
      '## Errors',
      '## Configuration (environment)',
      '## Amendments (v1.1)',
    ]) {
      expect([heading, api.includes(heading)]).toEqual([heading, true]);
    }
    for (const n of [1, 2, 3, 4, 5, 6, 7]) expect(api).toMatch(new RegExp(`\\*\\*A${n}\\. `));
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) expect(api).toMatch(new RegExp(`^${n}\\. _`, 'm'));
    expect(read('README.md')).toContain('[docs/api.md](docs/api.md)');
    expect(read('src/openapi/openapi.ts')).toContain('docs/api.md');
  });

  it('comments in jest.config.js point at files that exist', () => {
    const mentioned = [...read('jest.config.js').matchAll(/\b((?:docs|test|scripts)\/[\w./-]+\.\w+)/g)].map(
      (m) => m[1],
    );
    expect(mentioned.filter((f) => !fs.existsSync(path.join(root, f)))).toEqual([]);
  });
});
