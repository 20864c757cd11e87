/**
 * How every Lambda bundle is built, in one place: `buildLambdaBundle` runs esbuild's API with these
 * options and plugins, for the CDK construct (house-function.ts, through bundle-function.ts in a
 * child process, because CDK's local bundling is synchronous) and for the bench (bench/bundles.ts),
 * which measures size, contributors and cold load. A change here moves both.
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
 * - Five plugins (`LAMBDA_ESBUILD_PLUGINS`), which is why the bundles are no longer built by
 *   NodejsFunction (its esbuild CLI takes no plugins):
 *   - `sdkSchemaKeys`: each AWS SDK client's `dist-es/schemas/schemas_0.js` declares every shape
 *     of the service as a module-level array, with trait objects whose keys are computed from
 *     module constants (`{ [_xN]: _bC }`, `_xN = "xmlName"`). esbuild treats a computed key as a
 *     possible side effect (a `toString` call), so it keeps every array holding one, and
 *     everything those arrays reference: EC2's schemas stayed at about 540 KB in a bundle that
 *     sends one command. The plugin writes each such key as the string literal its constant
 *     holds (the same object), and tree-shaking keeps only the shapes the imported commands
 *     reach (EC2: about 4 KB for DescribeSecurityGroups).
 *   - `sdkPackageInfo`: the SDK's clients import their own package.json for the user agent and
 *     read only `version`; the plugin gives them `{ "version": … }` instead of the whole manifest
 *     (about 2 KB a client).
 *   - `octw-no-event-streams`: `@smithy/core/event-streams` (the event-stream codec, marshallers and
 *     serde, with the CRC32 they frame messages with) becomes functions/shared/no-event-streams.ts.
 *     Every protocol reaches it through a dynamic import that esbuild bundles anyway: about 18.5 KB
 *     of every bundle (the event-stream files, the CRC32 code only they use, and the lazy-init
 *     wrappers and namespace objects esbuild adds to the modules a dynamic import shares). No
 *     function sends an event-stream operation (CloudWatch Logs StartLiveTail and S3
 *     SelectObjectContent are the only ones among the clients used: checked in
 *     test/infra/bundle-replacements.test.ts against every command functions/ imports). The Logs
 *     and S3 clients build an event-stream marshaller when constructed, so the replacement builds
 *     one that cannot marshal; an event-stream operation sent from a bundle fails with
 *     `EventStreamsNotBundledError` naming this plugin. Any other path into the event-stream files
 *     fails the build.
 *   - `octw-pure-domain`: the modules of functions/domain are marked free of side effects, so esbuild
 *     leaves out a domain module whose exports a bundle does not use. It may, because the domain
 *     layer is declarations only (no top-level statement run for its effect: checked for every file
 *     in test/infra/domain-declarations.test.ts); esbuild cannot know it, since building a zod schema
 *     at module level is a call. With functions/shared/env-vars.ts (one definition per environment
 *     variable, its parser built on demand, instead of one schema object of every variable), a
 *     function no longer carries the plan catalogue, egress, ingress, quota and backup schemas of
 *     variables it does not read: GatewayEvents 304 → 266 KB, the others 1–7 KB.
 *   - `octw-no-js-sha256`: `@smithy/core`'s JavaScript SHA-256 (`checksum/sha256/Sha256Js`, about
 *     3 KB) becomes functions/shared/no-js-sha256.ts. The SDK hashes with Node's crypto and uses
 *     the JavaScript one only where `createHash("sha256")` throws, which Lambda's Node 22 never
 *     does; if it were ever chosen, the first hash fails with a clear error.
 *   Measured for issue 14 (bench/bundles.ts): the two SDK replacements took 21.5 KB from every
 *   bundle (GatewayEvents 330 → 309 KB, Reconcile 663 → 640 KB). Tried and left out: the IMDS region
 *   lookup (1.2 KB, the fallback when AWS_REGION is unset), DynamoDB endpoint discovery's LRU cache
 *   (mnemonist, about 6 KB: built with every DynamoDB client and used as soon as discovery is
 *   turned on, by configuration or AWS_ENABLE_ENDPOINT_DISCOVERY), the adaptive retry rate limiter
 *   (about 3 KB, chosen by AWS_RETRY_MODE at run time), each client's exception classes (what
 *   `instanceof` and the error names the functions classify rely on) and the partition table (any
 *   region the cell is deployed to).
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

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

/** Every `[_const]:` computed key of an SDK schema module written as the string its module constant holds. */
export function inlineSchemaKeys(source: string): string {
  const constants = new Map<string, string>();
  for (const m of source.matchAll(/^const (_[A-Za-z0-9_$]+) = ("(?:[^"\\\n]|\\.)*");$/gm)) constants.set(m[1]!, m[2]!);
  return source.replace(/\[(_[A-Za-z0-9_$]+)\]:/g, (key, name: string) => {
    const literal = constants.get(name);
    return literal === undefined ? key : `${literal}:`;
  });
}

const SDK_SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;
const SDK_PACKAGE_JSON = /[\\/]node_modules[\\/]@(aws-sdk|smithy)[\\/][^\\/]+[\\/]package\.json$/;
/** The import path of the SDK's event-stream serde, and where its files are (none may be loaded). */
export const EVENT_STREAMS_MODULE = '@smithy/core/event-streams';
const EVENT_STREAMS_FILES = /[\\/]@smithy[\\/]core[\\/]dist-[a-z]+[\\/]submodules[\\/]event-streams[\\/]/;
/** The replacement of `@smithy/core/event-streams` in function bundles. */
export const NO_EVENT_STREAMS = path.join(__dirname, '../../functions/shared/no-event-streams.ts');
/** `@smithy/core`'s checksum modules, which import the JavaScript SHA-256 as `./Sha256Js` or `./sha256/Sha256Js`. */
const SMITHY_CHECKSUM_DIR = /[\\/]@smithy[\\/]core[\\/]dist-[a-z]+[\\/]submodules[\\/]checksum[\\/]/;
/** The replacement of that JavaScript SHA-256 in function bundles. */
export const NO_JS_SHA256 = path.join(__dirname, '../../functions/shared/no-js-sha256.ts');
/** The domain layer: declarations only (test/infra/domain-declarations.test.ts), so a module of it nothing uses can go. */
export const DOMAIN_DIR = path.join(__dirname, '../../functions/domain');

/** The plugins of every function bundle (see the header). */
export const LAMBDA_ESBUILD_PLUGINS: readonly Plugin[] = [
  {
    name: 'octw-sdk-schema-keys',
    setup(b) {
      b.onLoad({ filter: SDK_SCHEMA_MODULE }, async (args) => ({ contents: inlineSchemaKeys(await readFile(args.path, 'utf8')), loader: 'js' }));
    },
  },
  {
    name: 'octw-sdk-package-info',
    setup(b) {
      b.onLoad({ filter: SDK_PACKAGE_JSON }, async (args) => {
        const manifest = JSON.parse(await readFile(args.path, 'utf8')) as { version?: unknown };
        return { contents: JSON.stringify({ version: manifest.version }), loader: 'json' };
      });
    },
  },
  {
    name: 'octw-no-event-streams',
    setup(b) {
      b.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, () => ({ path: NO_EVENT_STREAMS }));
      // Any other way into the event-stream files (a deep import in a future SDK) fails the build
      // here instead of bundling them silently beside the replacement.
      b.onLoad({ filter: EVENT_STREAMS_FILES }, (args) => ({
        errors: [{ text: `${args.path}: an AWS SDK event-stream file reached other than through ${EVENT_STREAMS_MODULE}; see octw-no-event-streams in infra/constructs/bundling.ts` }],
      }));
    },
  },
  {
    name: 'octw-pure-domain',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === 'octw-pure-domain' || args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'octw-pure-domain' });
        if (resolved.errors.length > 0 || !resolved.path.startsWith(`${DOMAIN_DIR}${path.sep}`)) return undefined;
        return { path: resolved.path, sideEffects: false };
      });
    },
  },
  {
    name: 'octw-no-js-sha256',
    setup(b) {
      b.onResolve({ filter: /^\.\/(sha256\/)?Sha256Js(\.js)?$/ }, (args) => (SMITHY_CHECKSUM_DIR.test(args.importer) ? { path: NO_JS_SHA256 } : undefined));
    },
  },
];

/** Builds one function bundle (`outfile` and its `.map`) with the options and plugins above. */
export async function buildLambdaBundle(entry: string, outfile: string): Promise<Metafile> {
  const built = await build({
    ...LAMBDA_ESBUILD_OPTIONS,
    mainFields: [...LAMBDA_ESBUILD_OPTIONS.mainFields],
    external: [...LAMBDA_ESBUILD_OPTIONS.external],
    plugins: [...LAMBDA_ESBUILD_PLUGINS],
    metafile: true,
    entryPoints: [entry],
    outfile,
    logLevel: 'warning',
  });
  return built.metafile;
}
