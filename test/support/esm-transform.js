/**
 * Jest transform for ESM-only packages (@noble/curves and @noble/hashes 2): jest's module
 * loader cannot require an ES module, so esbuild rewrites each file to CommonJS, as the
 * server's and pages' bundles do with the same sources. Only those packages pass through it
 * (jest.config.js transformIgnorePatterns).
 */
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, { loader: 'js', format: 'cjs', target: 'node20', sourcemap: true, sourcefile: filename });
    return { code, map };
  },
};
