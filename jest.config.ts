import type { Config } from 'jest';

// swc strips types (tsc typechecks separately in `npm run build`) and also turns the ESM-only
// dependencies below (got and its helpers, jose) into CommonJS, which jest's module loader needs.
const swcTransform: Config['transform'] = {
  '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
};
const esmOnlyPackages = [
  'got',
  '@sindresorhus',
  '@szmarczak',
  '@sec-ant',
  '@keyv',
  'byte-counter',
  'cacheable-lookup',
  'cacheable-request',
  'decompress-response',
  'form-data-encoder',
  'get-stream',
  'is-stream',
  'keyv',
  'lowercase-keys',
  'mimic-response',
  'normalize-url',
  'p-cancelable',
  'responselike',
  'chunk-data',
  'type-fest',
  'jose',
  // puppeteer-core (the Bull Board browser test) and its ESM-only dependencies
  'puppeteer-core',
  '@puppeteer',
  'chromium-bidi',
  'modern-tar',
];
const shared: Config = {
  transform: swcTransform,
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnlyPackages.join('|')})/)`],
  moduleNameMapper: {
    '^@novee/(shared|devkit)$': '<rootDir>/packages/$1/src',
    '^@novee/webhooks-verify$': '<rootDir>/packages/verify/src',
    '^@novee/(api|worker)$': '<rootDir>/apps/$1/src',
  },
  testEnvironment: 'node',
};

const config: Config = {
  // Integration hooks start real servers; timeouts inside the tests are what bound them.
  testTimeout: 60_000,
  // Logs only for failing test files; 'summary' is the rest of jest's default output.
  reporters: ['<rootDir>/test/jest/console-on-failure-reporter.js', 'summary'],
  verbose: false, // jest turns it on for a single test file, which prints logs as they come
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,packages}/*/src/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/support/global-teardown.ts',
    },
    {
      // Real processes killed and restarted (minutes): `npm run test:faults`, not part of `npm test`.
      ...shared,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
    },
  ],
};

export default config;
