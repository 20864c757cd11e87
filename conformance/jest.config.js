// Jest config of the conformance suite (npm run conformance): the real OpenClaw, so slow and serial.
// Not part of `npm test` (the root config's roots are test/ only).
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '..',
  roots: ['<rootDir>/conformance/tests'],
  testMatch: ['**/*.test.ts'],
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  maxWorkers: 1,
  testTimeout: 900_000,
  // The gateway test provisions through the local cloud, which needs DynamoDB Local.
  globalSetup: '<rootDir>/test/local-cloud/jest-global-setup.ts',
  globalTeardown: '<rootDir>/test/local-cloud/jest-global-teardown.ts',
};
