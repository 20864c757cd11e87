/**
 * How every Lambda bundle is built, in one place: the CDK construct (house-function.ts) passes these
 * options to NodejsFunction's local esbuild, and the bench (bench/bundles.ts) builds with the same
 * options through esbuild's API to measure size, contributors and cold load. A change here moves
 * both.
 *
 * - ESM for Node 22, minified and tree-shaken, `module` entry points first (ES modules shake; the
 *   CommonJS builds do not), an external source map without sources.
 * - The AWS SDK v3 is bundled, at the version package.json pins and the tests run (the runtime's own
 *   copy is not used). Measured for issue 14 with the SDK marked external instead: bundles of
 *   171–207 KB (Intake aside), but the cold load was 1.6–2× slower (egress 3.3 s against 2.0 s,
 *   lifecycle 4.2 s against 2.2 s, network 9.5 s against 4.7 s, on this loaded 2-core machine),
 *   because Node then resolves and loads the SDK's CommonJS build file by file, as the runtime
 *   would; and the version that runs would be whatever the runtime ships, so an input field newer
 *   than that copy would be dropped silently by its serializer. Load time is what a cold start
 *   pays, so the SDK stays inside, and the 300 KB size target is missed for it (see the bench).
 * - In the bundles only, `@aws-sdk/credential-provider-node` (the SDK's default chain) is replaced
 *   by functions/shared/lambda-credentials.ts: Lambda's credentials are in the environment, and the
 *   chain's SSO/STS/login/INI/process providers and their nested clients were about 127 KB of each
 *   bundle.
 * - A `require` for bundled CommonJS dependencies (the banner).
 */
import * as path from 'node:path';
import type { BuildOptions } from 'esbuild';

/** esbuild output is ESM; this banner gives bundled CommonJS dependencies a working `require`. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __octwCreateRequire } from 'node:module'; const require = __octwCreateRequire(import.meta.url);";

/** Module replaced in every function bundle, and its replacement. */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.join(__dirname, '../../functions/shared/lambda-credentials.ts'),
};

/** The esbuild options of every function bundle (entry and output excluded). */
export const LAMBDA_ESBUILD_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  banner: { js: ESM_REQUIRE_BANNER },
  alias: BUNDLE_ALIASES,
  external: [] as string[],
} as const satisfies BuildOptions;
