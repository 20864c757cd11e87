/**
 * Each Lambda bundle built as CDK builds it (infra/constructs/bundling.ts: ESM, node22, minified,
 * the AWS SDK bundled with the Lambda credential provider and the schema plugins, the createRequire
 * banner, external source map), its size without the map,
 * its largest contributors (esbuild's metafile), and its cold module-load time in fresh Node 22
 * processes.
 *
 * Beside them, the same build and measure of two reference entries in bench/fixtures/ (not Lambdas):
 * the floor that one bundled SDK v3 client sets (one DynamoDB GetItem, nothing else) and that floor
 * with the house's minimum kit (zod/mini input parsing, Powertools logger and metrics). No function
 * can be smaller or load faster than the first while it bundles an SDK v3 client.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HANDLERS, type HandlerKey } from '../functions/handlers/catalogue';
import { buildLambdaBundle } from '../infra/constructs/bundling';
import { HANDLERS_DIR } from '../infra/constructs/house-function';
import { handlerEnv } from '../test/local-cloud/env';

/** Issue 14.2: every bundle at most 300 KB and its cold module load at most 60 ms (median). */
export const BUNDLE_TARGET = { bytes: 300 * 1024, loadMs: 60 } as const;

export interface BundleMeasure {
  readonly bytes: number;
  readonly mapBytes: number;
  readonly loadMs: number[];
  readonly medianLoadMs: number;
  /** Largest contributors by package (bytes in the minified output). */
  readonly topPackages: { name: string; bytes: number }[];
}

export interface BundleResult extends BundleMeasure {
  readonly handler: HandlerKey;
}

/** The reference entries measured beside the functions (bench/fixtures/). */
export const FLOOR_FIXTURES = [
  { name: 'floor', label: 'floor: one DynamoDB GetItem with the SDK, nothing else', entry: path.join(__dirname, 'fixtures/floor-getitem.ts') },
  { name: 'floor+kit', label: 'floor + zod/mini + Powertools logger/metrics (the house minimum)', entry: path.join(__dirname, 'fixtures/floor-kit.ts') },
] as const;

export interface FloorResult extends BundleMeasure {
  readonly name: (typeof FLOOR_FIXTURES)[number]['name'];
  readonly label: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Builds `entry` as every function bundle is built, then imports it `runs` times, each in a fresh Node process (after one warm-up). */
async function measureBundle(entry: string, outfile: string, env: NodeJS.ProcessEnv, runs: number): Promise<BundleMeasure> {
  const metafile = await buildLambdaBundle(entry, outfile);
  const url = `file://${outfile}`;
  const script = `const t = performance.now(); const m = await import(${JSON.stringify(url)}); const d = performance.now() - t; if (typeof m.handler !== 'function') throw new Error('no handler'); process.stdout.write(String(d));`;
  const loadMs: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 30_000 });
    if (i > 0) loadMs.push(Number(out)); // the first run warms the OS file cache
  }
  const byPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, info] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = m ? m[1]! : 'octw (functions/)';
      byPackage.set(name, (byPackage.get(name) ?? 0) + info.bytesInOutput);
    }
  }
  const topPackages = [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, 6);
  return { bytes: statSync(outfile).size, mapBytes: statSync(`${outfile}.map`).size, loadMs, medianLoadMs: median(loadMs), topPackages };
}

/** The floors first, then every function, built and measured the same way. */
export async function measureBundles(runs = 5): Promise<{ floors: FloorResult[]; functions: BundleResult[] }> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'octw-bench-bundle-'));
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    ...handlerEnv({ tableName: 'octw-bench' }),
  };
  try {
    const floors: FloorResult[] = [];
    for (const f of FLOOR_FIXTURES) {
      floors.push({ name: f.name, label: f.label, ...(await measureBundle(f.entry, path.join(outdir, f.name, 'index.mjs'), env, runs)) });
    }
    const functions: BundleResult[] = [];
    for (const key of Object.keys(HANDLERS) as HandlerKey[]) {
      functions.push({ handler: key, ...(await measureBundle(path.join(HANDLERS_DIR, HANDLERS[key].entry), path.join(outdir, key, 'index.mjs'), env, runs)) });
    }
    return { floors, functions };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The bench's section 3: the floors, then each function's size and load against the targets and beside the floors. */
export function formatBundles(
  floors: readonly FloorResult[],
  functions: readonly BundleResult[],
  target: { readonly bytes: number; readonly loadMs: number },
  verdict: (ok: boolean, text: string) => string,
): string[] {
  const out: string[] = [];
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0).padStart(5)} KB`;
  const ms = (x: number) => `${x.toFixed(0).padStart(4)} ms`;
  out.push('3. Lambda bundles (esbuild as the house construct: ESM, node22, minified, everything bundled; size without the source map);');
  out.push('   cold module load = import() of the bundle in a fresh Node 22 process with the handler environment set, median of 5 after one warm-up');
  out.push('   Reference floors (bench/fixtures/, built and measured exactly as the functions; not Lambdas):');
  for (const f of floors) out.push(`     ${f.name.padEnd(10)} ${kb(f.bytes)}, load ${ms(f.medianLoadMs)}: ${f.label}`);
  const floor = floors.find((f) => f.name === 'floor');
  const kit = floors.find((f) => f.name === 'floor+kit');
  if (floor && floor.medianLoadMs > target.loadMs) {
    out.push(`   The ${target.loadMs} ms load target is below the floor: a bundle holding one DynamoDB client and one GetItem, nothing else, loads in ${floor.medianLoadMs.toFixed(0)} ms`);
    out.push(`   on this machine. No function that bundles an AWS SDK v3 client (the house rule) can meet ${target.loadMs} ms here; the load verdicts below stay measured against the target as set.`);
  } else if (floor) {
    out.push(`   The floor loads within the ${target.loadMs} ms load target on this machine (${floor.medianLoadMs.toFixed(0)} ms).`);
  }
  if (floor && floor.bytes > target.bytes) out.push(`   The floor itself is over the ${target.bytes / 1024} KB size target (${(floor.bytes / 1024).toFixed(0)} KB).`);
  out.push(`   Per function: size (target ≤ ${target.bytes / 1024} KB) and load (target ≤ ${target.loadMs} ms), each also as its excess over the floor${kit ? ' and the floor + kit' : ''}:`);
  for (const b of functions) {
    const sizeVs = [floor, kit].filter((r): r is FloorResult => r !== undefined).map((r) => `${r.name} +${((b.bytes - r.bytes) / 1024).toFixed(0)} KB`).join(', ');
    const loadVs = [floor, kit].filter((r): r is FloorResult => r !== undefined).map((r) => `${r.name} ${b.medianLoadMs - r.medianLoadMs >= 0 ? '+' : ''}${(b.medianLoadMs - r.medianLoadMs).toFixed(0)} ms`).join(', ');
    out.push(`   ${b.handler.padEnd(13)} ${verdict(b.bytes <= target.bytes, `size ${kb(b.bytes)} (${sizeVs})`)}   ${verdict(b.medianLoadMs <= target.loadMs, `load ${ms(b.medianLoadMs)} (${loadVs})`)}`);
    out.push(`   ${''.padEnd(13)} largest: ${b.topPackages.slice(0, 4).map((p) => `${p.name} ${(p.bytes / 1024).toFixed(0)} KB`).join(', ')}`);
  }
  return out;
}

// `tsx bench/bundles.ts`: this section alone.
if (require.main === module) {
  const verdict = (ok: boolean, text: string) => `${ok ? 'MET   ' : 'MISSED'} ${text}`;
  measureBundles(5)
    .then(({ floors, functions }) => {
      for (const l of formatBundles(floors, functions, BUNDLE_TARGET, verdict)) process.stdout.write(`${l}\n`);
    })
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    });
}
