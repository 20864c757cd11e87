/**
 * `tsx infra/constructs/bundle-function.ts ENTRY OUTDIR`: builds one Lambda bundle (OUTDIR/index.mjs
 * and its source map) with ./bundling.ts. HouseFunction's local bundling runs it in a child process
 * because CDK bundles synchronously and esbuild's plugins need its asynchronous API.
 */
import * as path from 'node:path';
import { buildLambdaBundle } from './bundling';

const [entry, outdir] = process.argv.slice(2);
if (!entry || !outdir) {
  process.stderr.write('usage: bundle-function.ts ENTRY OUTDIR\n');
  process.exit(2);
}
buildLambdaBundle(path.resolve(entry), path.join(path.resolve(outdir), 'index.mjs')).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
