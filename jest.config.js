/** Type checking is done once by `npm run typecheck`; ts-jest only transpiles. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // ESM-only packages (the OPRF of @noble/curves): rewritten to CommonJS for jest's loader.
    '/node_modules/@noble/.+\\.js$': '<rootDir>/test/support/esm-transform.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!@noble/)'],
  testTimeout: 90000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
