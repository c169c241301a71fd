/** Type checking is done once by `npm run typecheck`; ts-jest only transpiles. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 90000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
