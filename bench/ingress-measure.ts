/**
 * AWS calls per tenant route, measured on the ingress fake: `npx tsx bench/ingress-measure.ts [shards...]`
 * (default 1 5; 25 shards takes minutes: the fake scans its rules linearly).
 */
import { world } from '../test/ingress/support';
async function main() {
  const list = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const shards of list.length > 0 ? list : [1, 5]) {
    const w = world(shards);
    const n = shards * 100;
    let before = 0;
    const t0 = performance.now();
    const perTenant: number[] = [];
    for (let i = 0; i < n; i++) {
      before = w.fake.calls.length;
      await w.routes.ensureRoute({ tenantId: `t${String(i).padStart(5, '0')}`, mode: 'live' });
      perTenant.push(w.fake.calls.length - before);
    }
    const ms = performance.now() - t0;
    const last = perTenant.at(-1)!;
    const ops: Record<string, number> = {};
    for (const c of w.fake.calls.slice(before)) ops[c.operation] = (ops[c.operation] ?? 0) + 1;
    // re-run with placement (update/resume path)
    const p = await w.routes.ensureRoute({ tenantId: 't00000', mode: 'live' });
    const b2 = w.fake.calls.length;
    await w.routes.ensureRoute({ tenantId: 't00000', mode: 'maintenance', placement: p });
    console.log(JSON.stringify({ shards, tenants: n, callsFirstTenant: perTenant[0], callsLastTenant: last, lastOps: ops, callsWithPlacement: w.fake.calls.length - b2, msTotal: Math.round(ms) }));
  }
}
void main();
