/**
 * `cdk synth` with the real CLI, as a newcomer or CI runs it: offline, with no AWS credentials and
 * no account or region, bundling every Lambda with local esbuild (no Docker), running cdk-nag and
 * CDK's built-in CloudFormation validation. Then checks what reaches Lambda, from the bundles that
 * synth wrote: ESM with a working `require`, minified, source-mapped, the AWS SDK inside the
 * bundle; and loads one bundle in Node 22.
 *
 * Slow suite (npm run test:slow): one real synth bundles every function (about 45 s alone on
 * an idle 2-core machine). The bundle checks read the same synth's output instead of bundling again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HANDLERS, STATE_MACHINES, type HandlerKey } from '../../functions/handlers/catalogue';
import { parseConfig } from '../../infra/config';
import { ESM_REQUIRE_BANNER } from '../../infra/constructs/house-function';
import { cdkJsonContext } from '../../test/infra/synth';

const ROOT = path.join(__dirname, '../..');
const config = parseConfig(cdkJsonContext());
const out = mkdtempSync(path.join(tmpdir(), 'octw-synth-'));

interface Resource {
  Type: string;
  Metadata?: Record<string, string>;
  Properties: { FunctionName?: string };
}
let templateFile: string | undefined;
let template: { Resources: Record<string, Resource> } = { Resources: {} };
/** Bundle directory of each handler, from the asset path CDK records on the function. */
let bundles = {} as Record<HandlerKey, string>;

beforeAll(() => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|CDK_DEFAULT_)/.test(k)) env[k] = v;
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.CDK_DISABLE_CLI_TELEMETRY = 'true';
  delete env.CDK_VALIDATION;
  env.PATH = `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`;
  execFileSync(path.join(ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--no-notices', '--output', out], {
    cwd: ROOT,
    env,
    stdio: 'pipe',
    // Generous: about 45 s on an idle 2-core machine, over 4 min when the machine is shared.
    timeout: 540_000,
  });
  templateFile = readdirSync(out).find((f) => f.endsWith('.template.json'));
  template = JSON.parse(readFileSync(path.join(out, templateFile ?? 'missing'), 'utf8')) as typeof template;
  bundles = Object.fromEntries(
    (Object.keys(HANDLERS) as HandlerKey[]).map((key) => {
      const fn = Object.values(template.Resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `${config.prefix}-${key.toLowerCase()}`,
      );
      const assetPath = fn?.Metadata?.['aws:asset:path'];
      return [key, assetPath ? path.join(out, assetPath) : ''];
    }),
  ) as Record<HandlerKey, string>;
}, 600_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('synthesizes the platform offline without credentials', () => {
  expect(templateFile).toBe('Octw-cell-1.template.json');
  const types = Object.values(template.Resources).map((r) => r.Type);
  expect(types.filter((t) => t === 'AWS::StepFunctions::StateMachine')).toHaveLength(Object.keys(STATE_MACHINES).length);
  // Every function's code is an asset bundled by esbuild, not inline code or a Docker image.
  expect(readdirSync(out).filter((f) => f.startsWith('asset.')).length).toBeGreaterThanOrEqual(8);
});

it("reports nothing from cdk-nag or CDK's built-in CloudFormation validation", () => {
  const report = JSON.parse(readFileSync(path.join(out, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
  expect(report.pluginReports).toEqual([]);
});

describe('Lambda bundles', () => {
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

  it.each(Object.keys(HANDLERS) as HandlerKey[])('replaces the SDK default credential chain in %s by the Lambda environment provider', (key) => {
    const code = readFileSync(path.join(bundles[key], 'index.mjs'), 'utf8');
    expect(code).toContain('No AWS credentials in the environment'); // functions/shared/lambda-credentials.ts
    // The default chain (its own error message) and its web-identity provider are not in the bundle.
    // (`sso_start_url` may be: Bedrock's client carries the SSO *token* provider of its bearer auth.)
    expect(code).not.toMatch(/Could not load credentials from any providers|AWS_WEB_IDENTITY_TOKEN_FILE/);
  });

  it.each(Object.keys(HANDLERS) as HandlerKey[])('replaces the SDK event-stream serde and its JavaScript SHA-256 in %s (infra/constructs/bundling.ts)', (key) => {
    const code = readFileSync(path.join(bundles[key], 'index.mjs'), 'utf8');
    expect(code).toContain('AWS SDK event streams are not in this function bundle'); // functions/shared/no-event-streams.ts
    expect(code).not.toContain('initialResponseMarker'); // the SDK's EventStreamSerde
    expect(code).toContain("The AWS SDK's JavaScript SHA-256 fallback is not in this function bundle"); // functions/shared/no-js-sha256.ts
  });

  it('keeps only the EC2 shapes the Network function reaches (the schema-key plugin of infra/constructs/bundling.ts)', () => {
    const code = readFileSync(path.join(bundles.Network, 'index.mjs'), 'utf8');
    // A command the Network function sends, and one no function sends (its shapes would be kept
    // if esbuild still saw the schema arrays' computed trait keys as side effects).
    expect(code).toContain('DescribeSecurityGroups');
    expect(code).not.toContain('WithdrawByoipCidr');
    expect(statSync(path.join(bundles.Network, 'index.mjs')).size).toBeLessThan(600 * 1024);
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
      // The quota guard's settings (issue 13.5): off, as cdk.json ships.
      QUOTA_GUARD_JSON: JSON.stringify({ enabled: false }),
      SUBNET_IDS: 'subnet-0a,subnet-0b',
      FILE_SYSTEM_ID: 'fs-0123456789abcdef0',
      INGRESS_SETTINGS_JSON: JSON.stringify({ enabled: false }),
    };
    const url = `file://${path.join(bundles.Lifecycle, 'index.mjs')}`;
    const loaded = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(url)}); process.stdout.write(typeof m.handler);`], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(loaded).toBe('function');
  });
});
