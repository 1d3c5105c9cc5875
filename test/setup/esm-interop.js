// Jest on Node 20 cannot `require()` an ES module, but two CommonJS packages we use
// (@nestjs/throttler) `require('@nestjs/common')`, which is
// ESM-only since NestJS 12. Node itself loads them fine (require(esm), Node >= 20.19), so only
// the test runner needs help: this writes an ES-module copy of each package under
// node_modules/.cache/jest-esm (once per installed version) and jest.config.js maps the package
// names to it. Each CommonJS file becomes a module that imports its dependencies statically, runs
// the original code against them and re-exports what it exported (names found by
// cjs-module-lexer, the parser Node and Jest use for the same job). Production code is untouched.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheRoot = join(root, 'node_modules', '.cache', 'jest-esm');

function jsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsFiles(path);
    return name.endsWith('.js') ? [path] : [];
  });
}

function convert(source) {
  const { parse, initSync } = require('cjs-module-lexer');
  initSync?.();
  const specifiers = [...new Set([...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))];
  const { exports, reexports } = parse(source);
  const imports = specifiers.map((s, i) => {
    const target = s.startsWith('.') ? `${s}.js` : s;
    return `import * as __dep${i} from ${JSON.stringify(target)};`;
  });
  const table = specifiers.map((s, i) => `${JSON.stringify(s)}: __dep${i}`).join(', ');
  const names = [...new Set(exports)].filter(
    (n) => n !== 'default' && n !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(n),
  );
  return [
    ...imports,
    `const __deps = { ${table} };`,
    // A CommonJS dependency (or a converted file) arrives as a namespace whose default is module.exports.
    'const require = (id) => { const ns = __deps[id]; return ns && ns.default !== undefined ? ns.default : ns; };',
    'const module = { exports: {} };',
    // The original code runs in its own scope, as under Node's CommonJS wrapper.
    `(function (exports, require, module) {\n${source.replace(/^#!.*\n/, '')}\n}).call(module.exports, module.exports, require, module);`,
    'export default module.exports;',
    ...names.map((n) => `export const ${n} = module.exports.${n};`),
    ...reexports.filter((r) => r.startsWith('.')).map((r) => `export * from ${JSON.stringify(`${r}.js`)};`),
  ].join('\n');
}

/** Returns Jest moduleNameMapper entries that point each package at its ES-module copy. */
export function esmInterop(packages) {
  const mapper = {};
  for (const name of packages) {
    const pkgDir = join(root, 'node_modules', name);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    const outDir = join(cacheRoot, `${name}@${pkg.version}`);
    if (!existsSync(join(outDir, 'package.json'))) {
      rmSync(outDir, { recursive: true, force: true });
      for (const file of jsFiles(pkgDir).filter((f) => !f.includes(`${pkgDir}/node_modules/`))) {
        const out = join(outDir, relative(pkgDir, file));
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, convert(readFileSync(file, 'utf8')));
      }
      writeFileSync(
        join(outDir, 'package.json'),
        JSON.stringify({ name, version: pkg.version, type: 'module' }),
      );
    }
    mapper[`^${name.replace(/[/@.-]/g, (c) => `\\${c}`)}$`] = join(outDir, pkg.main ?? 'index.js');
  }
  return mapper;
}
