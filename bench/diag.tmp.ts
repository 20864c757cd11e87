import { writeFileSync } from 'node:fs';
import { signupFor } from '../test/local-cloud/samples';
import { startBenchCloud, ensureDynamo, stopDynamo } from './harness';
(async () => {
  const scale = 0.1, n = Number(process.argv[2] ?? 500);
  await ensureDynamo();
  const bench = await startBenchCloud({ scale });
  const { cloud, recorder } = bench;
  const ids = Array.from({ length: n }, (_, i) => `dg-${String(i).padStart(4, '0')}`);
  const t0 = Date.now();
  for (const id of ids) await cloud.signup(signupFor(id));
  await cloud.settle();
  const m = (t: number) => (t - t0) / scale / 1000;
  const rows = recorder.calls.map((c) => ({ s: c.service, o: c.operation, h: c.handler, st: c.stateName, e: c.executionName, a: m(c.start), b: m(c.end), ok: c.ok, err: c.errorName }));
  const prog = recorder.progress.map((p) => ({ k: p.kind, t: m(p.timestamp), ...(p as any) }));
  writeFileSync('/tmp/b/diag.json', JSON.stringify({ rows, prog }));
  await bench.stop(); await stopDynamo();
})();
