#!/usr/bin/env node
// `octw`: the operator CLI (infra/cli/run.ts). Registers tsx so the TypeScript sources load as they are.
// Exit codes: 0 ok, 1 workflow failed, 2 usage/validation error, 3 not found/refused by state, 4 AWS error.
'use strict';
const argv = process.argv.slice(2);
if (argv.includes('--json')) {
  // With --json stderr carries only the JSON error document: silence the SDK's Node-version notice
  // (printed on Node < 22; package.json asks for Node >= 22 anyway) with the SDK's own switch.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
require('tsx/cjs');
const { main } = require('./main.ts');
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`octw: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 4;
  },
);
