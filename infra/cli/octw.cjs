#!/usr/bin/env node
// `octw`: the operator CLI (infra/cli/run.ts). Registers tsx so the TypeScript sources load as they are.
// Exit codes: 0 ok, 1 workflow failed, 2 usage/validation error, 3 not found/refused by state, 4 AWS error.
'use strict';
require('tsx/cjs');
const { main } = require('./main.ts');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`octw: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 4;
  },
);
