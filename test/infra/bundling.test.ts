/**
 * Bundles every control-plane function for real, offline, with local esbuild (no Docker), the way
 * `cdk synth` / `cdk deploy` do, and checks what reaches Lambda: ESM with a working `require`,
 * minified, source-mapped, the AWS SDK inside the bundle. Then loads one bundle in Node 22.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { HANDLERS, type HandlerKey } from '../../functions/handlers/catalogue';
import { configFromNode } from '../../infra/config';
import { ESM_REQUIRE_BANNER } from '../../infra/constructs/house-function';
import { PlatformStack } from '../../infra/platform-stack';
import { cdkJsonContext } from './synth';

const outdir = mkdtempSync(path.join(tmpdir(), 'octw-bundle-'));
const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:enable-asset-metadata': true } });
const config = configFromNode(app.node);
const stack = new PlatformStack(app, config.stackName, { config });
const assembly = app.synth();
const template = assembly.getStackByName(stack.stackName).template as {
  Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties: { FunctionName?: string } }>;
};

/** Bundle directory of each handler, from the asset path CDK records on the function. */
const bundles = Object.fromEntries(
  (Object.keys(HANDLERS) as HandlerKey[]).map((key) => {
    const fn = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `${config.prefix}-${key.toLowerCase()}`,
    );
    const assetPath = fn?.Metadata?.['aws:asset:path'];
    return [key, assetPath ? path.join(outdir, assetPath) : ''];
  }),
) as Record<HandlerKey, string>;

describe('Lambda bundles', () => {
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it.each(Object.keys(HANDLERS) as HandlerKey[])('bundles %s as minified ESM with the createRequire banner and a source map', (key) => {
    const file = path.join(bundles[key], 'index.mjs');
    expect(existsSync(file)).toBe(true);
    const code = readFileSync(file, 'utf8');
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    expect(existsSync(path.join(bundles[key], 'index.mjs.map'))).toBe(true);
    expect(code.length / code.split('\n').length).toBeGreaterThan(2_000); // minified: lines break only inside template literals
  });

  it.each(Object.keys(HANDLERS) as HandlerKey[])('bundles the AWS SDK into %s instead of relying on the runtime copy', (key) => {
    const code = readFileSync(path.join(bundles[key], 'index.mjs'), 'utf8');
    const loadedAtRunTime = [...code.matchAll(/(?:from\s*|require\(|import\()["'](@aws-sdk\/[a-z0-9-]+|@aws-lambda-powertools\/[a-z0-9-]+|@smithy\/[a-z0-9-]+)/g)].map((m) => m[1]);
    // Only the SDK's optional SigV4a signers (unused here) stay guarded requires, as the SDK intends.
    const optional = ['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a'];
    expect(loadedAtRunTime.filter((m) => !optional.includes(m as string))).toEqual([]);
  });

  it('loads the Lifecycle bundle alone (no node_modules beside it) in Node 22 as an ES module exporting handler', () => {
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      TABLE_NAME: 'octw-cell-1-tenants',
      EVENT_BUS_NAME: 'octw-cell-1',
      EVENT_SOURCE: 'octw.tenants',
      CELL_ID: 'cell-1',
      PLANS_JSON: JSON.stringify(config.plans),
      VPC_CIDR: '10.64.0.0/16',
      UID_BASE: '100000',
      DATA_RETENTION_DAYS: '30',
      DEFAULT_EGRESS_ALLOWLIST_JSON: '[]',
      EGRESS_SETTINGS_JSON: JSON.stringify({ protectedCidrs: ['10.64.0.0/16'] }),
    };
    const url = `file://${path.join(bundles.Lifecycle, 'index.mjs')}`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(url)}); process.stdout.write(typeof m.handler);`], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out).toBe('function');
  });
});
