import { esmInterop } from './test/setup/esm-interop.js';

// Jest runs the project as native ES modules (NestJS 12 is ESM-only, and Jest 30 cannot require()
// it on Node 20): the npm scripts start Jest with NODE_OPTIONS=--experimental-vm-modules.
// @swc/jest strips types and keeps decorator metadata so Nest's constructor injection works.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // Source imports carry NodeNext-style ".js" suffixes; resolve them to the .ts files.
  // (Not `x.json.js` files inside packages, e.g. libphonenumber-js metadata.)
  moduleNameMapper: {
    '^(\\.{1,2}/.*)(?<!\\.json)\\.js$': '$1',
    // CommonJS packages that require ESM-only NestJS: see test/setup/esm-interop.js.
    ...esmInterop(['@nestjs/throttler']),
  },
  transform: { '^.+\\.ts$': swc },
};

export default {
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/src', '<rootDir>/prisma'],
      testMatch: ['**/*.spec.ts'],
      globalSetup: '<rootDir>/test/setup/unit-setup.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
    {
      // Services with their real repositories on a migrated database, no HTTP (test/medium).
      ...common,
      displayName: 'medium',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.medium-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
};
