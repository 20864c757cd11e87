/**
 * Builds the egress proxy image's Node inputs (egress/Dockerfile): the sidecar and Squid's policy
 * helper, each one self-contained ES module bundled by esbuild. `npx tsx functions/egress/bundle.ts`
 * writes egress/dist/{sidecar,acl-helper}.mjs (git-ignored; .ci/run builds them); the real-Squid
 * test harness builds the helper into its own temp directory with the same function.
 */
import * as path from 'node:path';
import { buildSync } from 'esbuild';

export const EGRESS_ENTRY_POINTS = {
  sidecar: path.join(__dirname, 'sidecar.ts'),
  'acl-helper': path.join(__dirname, 'acl-helper.ts'),
} as const;

export function buildEgressBundles(outDir: string, only?: readonly (keyof typeof EGRESS_ENTRY_POINTS)[]): string[] {
  const names = only ?? (Object.keys(EGRESS_ENTRY_POINTS) as (keyof typeof EGRESS_ENTRY_POINTS)[]);
  const out: string[] = [];
  for (const name of names) {
    const outfile = path.join(outDir, `${name}.mjs`);
    buildSync({
      entryPoints: [EGRESS_ENTRY_POINTS[name]],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node18',
      format: 'esm',
      // CommonJS dependencies (the AWS SDK) need require in an ES module.
      banner: { js: "import { createRequire as __octwRequire } from 'node:module'; const require = __octwRequire(import.meta.url);" },
      minify: false,
      legalComments: 'none',
      logLevel: 'error',
    });
    out.push(outfile);
  }
  return out;
}

if (require.main === module) {
  const outDir = process.argv[2] ?? path.join(__dirname, '..', '..', 'egress', 'dist');
  for (const f of buildEgressBundles(outDir)) console.log(`built ${path.relative(process.cwd(), f)}`);
}
