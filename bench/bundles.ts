/**
 * Each Lambda bundle built as CDK builds it (infra/constructs/bundling.ts: ESM, node22, minified,
 * the AWS SDK bundled with the Lambda credential provider and the schema plugins, the createRequire
 * banner, external source map), its size without the map,
 * its largest contributors (esbuild's metafile), and its cold module-load time in fresh Node 22
 * processes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HANDLERS, type HandlerKey } from '../functions/handlers/catalogue';
import { buildLambdaBundle } from '../infra/constructs/bundling';
import { HANDLERS_DIR } from '../infra/constructs/house-function';
import { handlerEnv } from '../test/local-cloud/env';

export interface BundleResult {
  readonly handler: HandlerKey;
  readonly bytes: number;
  readonly mapBytes: number;
  readonly loadMs: number[];
  readonly medianLoadMs: number;
  /** Largest contributors by package (bytes in the minified output). */
  readonly topPackages: { name: string; bytes: number }[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function measureBundles(runs = 5): Promise<BundleResult[]> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'octw-bench-bundle-'));
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    ...handlerEnv({ tableName: 'octw-bench' }),
  };
  try {
    const results: BundleResult[] = [];
    for (const key of Object.keys(HANDLERS) as HandlerKey[]) {
      const dir = path.join(outdir, key);
      const outfile = path.join(dir, 'index.mjs');
      const metafile = await buildLambdaBundle(path.join(HANDLERS_DIR, HANDLERS[key].entry), outfile);
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
      results.push({ handler: key, bytes: statSync(outfile).size, mapBytes: statSync(`${outfile}.map`).size, loadMs, medianLoadMs: median(loadMs), topPackages });
    }
    return results;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
