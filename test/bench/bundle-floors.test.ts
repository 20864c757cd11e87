/**
 * The bench's bundle floors (bench/bundles.ts, bench/fixtures/): the reference entries build with the
 * functions' own esbuild options and hold what their labels say, they are not Lambdas, and the
 * section states the floor against the targets without bending the verdicts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Metafile } from 'esbuild';
import { FLOOR_FIXTURES, formatBundles, type BundleResult, type FloorResult } from '../../bench/bundles';
import { HANDLERS } from '../../functions/handlers/catalogue';
import { buildLambdaBundle } from '../../infra/constructs/bundling';

const out = mkdtempSync(path.join(tmpdir(), 'octw-floor-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const DYNAMODB_COMMANDS = /@aws-sdk\/client-dynamodb\/dist-es\/commands\/([A-Za-z]+)Command\.js$/;
const built: Record<string, { code: string; inputs: string[] }> = {};

beforeAll(async () => {
  for (const f of FLOOR_FIXTURES) {
    const outfile = path.join(out, f.name, 'index.mjs');
    const meta: Metafile = await buildLambdaBundle(f.entry, outfile);
    // The inputs that contribute bytes (the metafile also lists modules tree-shaken to nothing).
    const inputs = Object.values(meta.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([name]) => name));
    built[f.name] = { code: readFileSync(outfile, 'utf8'), inputs };
  }
}, 60_000);

describe('bundle floor fixtures', () => {
  it('are not function entries and live outside functions/', () => {
    const entries = Object.values(HANDLERS).map((h) => h.entry);
    for (const f of FLOOR_FIXTURES) {
      expect(f.entry).toContain(`${path.sep}bench${path.sep}fixtures${path.sep}`);
      expect(entries).not.toContain(path.basename(f.entry));
    }
  });

  it('the floor holds the DynamoDB client with GetItem and no other command, and no zod or Powertools', () => {
    const { code, inputs } = built.floor!;
    // DescribeEndpoints is the client's own: its endpoint-discovery middleware imports it.
    const commands = inputs.map((i) => DYNAMODB_COMMANDS.exec(i)?.[1]).filter(Boolean);
    expect(commands.sort()).toEqual(['DescribeEndpoints', 'GetItem']);
    expect(code).toContain('"GetItem"');
    for (const other of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems', 'Scan', 'DescribeTable']) expect(code).not.toContain(`"${other}"`);
    expect(inputs.filter((i) => /node_modules\/(zod|@aws-lambda-powertools)\//.test(i))).toEqual([]);
    // Built as the functions are: the Lambda credential provider replaces the SDK's default chain.
    expect(code).toContain('No AWS credentials in the environment');
  });

  it('the floor + kit adds zod/mini with English messages only, and the Powertools logger and metrics', () => {
    const { inputs } = built['floor+kit']!;
    expect(inputs.map((i) => DYNAMODB_COMMANDS.exec(i)?.[1]).filter(Boolean).sort()).toEqual(['DescribeEndpoints', 'GetItem']);
    expect(inputs.some((i) => i.includes('node_modules/zod/v4/mini/'))).toBe(true);
    expect(inputs.filter((i) => i.includes('node_modules/zod/v4/locales/'))).toEqual([expect.stringMatching(/locales\/en\.js$/)]);
    expect(inputs.some((i) => i.includes('@aws-lambda-powertools/logger/'))).toBe(true);
    expect(inputs.some((i) => i.includes('@aws-lambda-powertools/metrics/'))).toBe(true);
    expect(inputs.some((i) => i.includes('@aws-lambda-powertools/tracer/'))).toBe(false);
  });
});

describe('formatBundles', () => {
  const verdict = (ok: boolean, text: string) => `${ok ? 'MET' : 'MISSED'} ${text}`;
  const measure = { mapBytes: 1, loadMs: [], topPackages: [{ name: '@smithy/core', bytes: 100 * 1024 }] };
  const floor = (loadMs: number): FloorResult => ({ ...measure, name: 'floor', label: 'floor', bytes: 188 * 1024, medianLoadMs: loadMs });
  const fn = (kb: number, loadMs: number): BundleResult => ({ ...measure, handler: 'GatewayEvents', bytes: kb * 1024, medianLoadMs: loadMs });
  const target = { bytes: 300 * 1024, loadMs: 60 };

  it('says plainly when the load target is below the floor, and keeps each verdict against the target', () => {
    const lines = formatBundles([floor(80)], [fn(290, 95)], target, verdict).join('\n');
    expect(lines).toContain('The 60 ms load target is below the floor');
    expect(lines).toContain('loads in 80 ms');
    expect(lines).toMatch(/GatewayEvents +MET size +290 KB \(floor \+102 KB\) +MISSED load +95 ms \(floor \+15 ms\)/);
  });

  it('does not claim a floor problem when the floor loads within the target', () => {
    const lines = formatBundles([floor(40)], [fn(310, 55)], target, verdict).join('\n');
    expect(lines).not.toContain('below the floor');
    expect(lines).toMatch(/MISSED size +310 KB.*MET load +55 ms/);
  });
});
