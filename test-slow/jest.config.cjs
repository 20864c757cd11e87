// The slow suite (`npm run test:slow`, also run by .ci/run): tests too slow for `npm test`, each
// slower than ~20 s alone (real CDK synth with esbuild bundling, ...). Same settings as `npm test`
// (package.json "jest"): only the folder differs.
const base = require('../package.json').jest;

module.exports = { ...base, rootDir: '..', roots: ['<rootDir>/test-slow'] };
