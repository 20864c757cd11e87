// The slow suite (`npm run test:slow`, also run by .ci/run): tests too slow for `npm test`, each
// over ~20 s alone on an idle 2-core machine (the real CDK synth with esbuild bundling, the
// lifecycle fault matrices). Same settings as `npm test` (package.json "jest"): only the folder differs.
const base = require('../package.json').jest;

module.exports = { ...base, rootDir: '..', roots: ['<rootDir>/test-slow'] };
