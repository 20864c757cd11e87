/**
 * The ingress invariant, over many tenants provisioned, suspended and removed concurrently, with
 * every interleaving of AWS calls chosen by fast-check's scheduler: no tenant hostname ever routes
 * to another tenant's target group, every listener's priorities stay unique, a tenant has at most
 * one rule, and what each tenant ends with matches its last operation.
 *
 * As in the platform, one workflow per tenant at a time: a tenant's operations run in sequence,
 * different tenants' run concurrently. All tenants start their priority search at 1, so
 * concurrent creates collide and PriorityInUse is exercised on nearly every run.
 */
import fc from 'fast-check';
import { QuotaExceededError, ResourceBusyError } from '../../functions/domain/errors';
import type { IngressPlacement } from '../../functions/domain/ingress';
import { forwardTargets } from '../local-cloud/fake-aws/elbv2';
import { DOMAIN, tenantOfTargetGroup, world, ZONE_ID } from './support';

const TENANTS = ['acme', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
type Op = 'provision' | 'suspend' | 'remove';

async function retryBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ResourceBusyError) || i >= 20) throw e;
    }
  }
}

describe('ingress routing invariant', () => {
  it('never routes a tenant hostname to another tenant, and keeps priorities unique, under concurrent provision / suspend / remove', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.record({ tenant: fc.constantFrom(...TENANTS), op: fc.constantFrom<Op>('provision', 'provision', 'suspend', 'remove') }), { minLength: 1, maxLength: 30 }),
        async (s, ops) => {
          // Two small shards (4 tenants each) so that shards fill and overflow during the run.
          const w = world(2, {
            rulesPerShard: 4,
            elbLimits: { rulesPerLoadBalancer: 4 },
            priorityStart: () => 1,
            call: (fake) => (svc, op, input) => s.schedule(Promise.resolve(`${svc}:${op}`)).then(() => fake.call(svc, op, input)),
          });
          const expected = new Map<string, 'live' | 'maintenance' | 'none'>();
          const placements = new Map<string, IngressPlacement>();
          const byTenant = new Map<string, Op[]>();
          for (const { tenant, op } of ops) byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), op]);

          const chains = [...byTenant].map(async ([tenant, list]) => {
            for (const op of list) {
              if (op === 'remove') {
                await retryBusy(() => w.routes.removeRoute(tenant, placements.get(tenant)));
                placements.delete(tenant);
                expected.set(tenant, 'none');
                continue;
              }
              if (op === 'suspend' && (expected.get(tenant) ?? 'none') === 'none') continue;
              const mode = op === 'suspend' ? 'maintenance' : 'live';
              try {
                const prior = placements.get(tenant);
                const p = await retryBusy(() => w.routes.ensureRoute({ tenantId: tenant, mode, ...(prior ? { placement: prior } : {}) }));
                placements.set(tenant, p);
                expected.set(tenant, mode);
              } catch (e) {
                if (!(e instanceof QuotaExceededError)) throw e;
                // Every shard full: the workflow compensates by removing what the step made.
                await retryBusy(() => w.routes.removeRoute(tenant, placements.get(tenant)));
                placements.delete(tenant);
                expected.set(tenant, 'none');
              }
            }
          });
          await s.waitFor(Promise.all(chains));

          const rules = [...w.fake.elb.rules.values()];
          // Priorities unique per listener.
          for (const shard of w.settings.shards) {
            const ps = rules.filter((r) => r.listenerArn === shard.listenerArn).map((r) => r.priority);
            expect(new Set(ps).size).toBe(ps.length);
          }
          // Every rule: one host, tagged for that host's tenant, forwarding only to that tenant's group.
          const hosts = new Map<string, number>();
          for (const r of rules) {
            const values = r.conditions.filter((c) => c.Field === 'host-header').flatMap((c) => c.HostHeaderConfig?.Values ?? []);
            expect(values).toHaveLength(1);
            const tenant = values[0]!.slice(0, -(DOMAIN.length + 1));
            expect(`${tenant}.${DOMAIN}`).toBe(values[0]);
            expect(r.tags.get('octw:tenant')).toBe(tenant);
            for (const tg of forwardTargets(r.actions)) expect(tenantOfTargetGroup(w.fake, tg)).toBe(tenant);
            hosts.set(tenant, (hosts.get(tenant) ?? 0) + 1);
          }
          for (const n of hosts.values()) expect(n).toBe(1);
          // Each tenant ends as its last successful operation says; the request for its host lands on its own group.
          for (const tenant of TENANTS) {
            const want = expected.get(tenant) ?? 'none';
            const host = `${tenant}.${DOMAIN}`;
            const outcomes = w.settings.shards.map((sh) => w.fake.elb.route(sh.listenerArn, host));
            const record = w.fake.route53.record(ZONE_ID, host);
            if (want === 'none') {
              expect(outcomes.every((o) => o.kind === 'fixed' && o.status === '404')).toBe(true);
              expect(record).toBeUndefined();
              expect(w.fake.resources().filter((r) => r.tags['octw:tenant'] === tenant)).toEqual([]);
              continue;
            }
            const idx = w.settings.shards.findIndex((sh) => sh.id === placements.get(tenant)!.shardId);
            const o = outcomes[idx]!;
            if (want === 'live') {
              expect(o.kind).toBe('forward');
              if (o.kind === 'forward') expect(tenantOfTargetGroup(w.fake, o.targetGroupArn)).toBe(tenant);
            } else {
              expect(o).toMatchObject({ kind: 'fixed', status: '503' });
            }
            expect(record?.AliasTarget?.DNSName).toBe(`dualstack.${w.settings.shards[idx]!.dnsName}.`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
