import type { Context } from 'aws-lambda';
import type { GatewayProbe, IngressPlacementStore } from '../../functions/usecases/ingress';
import { makeIngressHandler } from '../../functions/usecases/ingress';
import type { IngressPlacement } from '../../functions/domain/ingress';
import { DOMAIN, world } from './support';

const ctx = { functionName: 'ingress', awsRequestId: 'r1' } as unknown as Context;
const EXEC = 'arn:aws:states:us-east-1:123456789012:execution:octw-provision:acme-1';
const TOKEN = 'stg_0123456789abcdefXYZ';

function setUp(probeOk = true) {
  const w = world(1);
  const saved = new Map<string, IngressPlacement>();
  const store: IngressPlacementStore = {
    read: (id) => Promise.resolve(saved.has(id) ? { placement: saved.get(id)! } : {}),
    write: (id, _e, p) => {
      if (p) saved.set(id, p);
      else saved.delete(id);
      return Promise.resolve();
    },
  };
  const probes: { url: string; headers: Record<string, string> }[] = [];
  const probe: GatewayProbe = {
    handshake: (i) => {
      probes.push(i);
      // The probe "reaches" the gateway only if the fake ALB routes the request to acme's group.
      const p = saved.get(i.tenantId)!;
      const out = w.fake.elb.route(w.settings.shards[0]!.listenerArn, new URL(i.url).hostname, i.headers);
      return Promise.resolve({ ok: probeOk && out.kind === 'forward' && out.targetGroupArn === p.targetGroupArn, detail: out.kind });
    },
  };
  return { w, saved, probes, handler: makeIngressHandler({ routes: w.routes, store: store, probe }) };
}

describe('ingress handler', () => {
  it('creates a staging route, verifies the gateway through it with the staging header, goes live and records the placement', async () => {
    const { handler, saved, probes } = setUp();
    await handler({ action: 'ensure', tenantId: 'acme', executionArn: EXEC, mode: 'staging', stagingToken: TOKEN }, ctx);
    expect(await handler({ action: 'verify', tenantId: 'acme', executionArn: EXEC, stagingToken: TOKEN }, ctx)).toEqual({ verified: `acme.${DOMAIN}` });
    expect(probes[0]!.headers).toEqual({ 'x-octw-staging': TOKEN });
    await handler({ action: 'ensure', tenantId: 'acme', executionArn: EXEC, mode: 'live' }, ctx);
    expect(saved.get('acme')).toMatchObject({ mode: 'live', hostname: `acme.${DOMAIN}` });
  });

  it('fails verify with GatewayUnhealthyError when the handshake through the route fails', async () => {
    const { handler } = setUp(false);
    await handler({ action: 'ensure', tenantId: 'acme', executionArn: EXEC, mode: 'staging', stagingToken: TOKEN }, ctx);
    await expect(handler({ action: 'verify', tenantId: 'acme', executionArn: EXEC, stagingToken: TOKEN }, ctx)).rejects.toMatchObject({ name: 'GatewayUnhealthyError' });
  });

  it('removes the route and clears the placement', async () => {
    const { handler, saved, w } = setUp();
    await handler({ action: 'ensure', tenantId: 'acme', executionArn: EXEC, mode: 'staging' }, ctx);
    expect(await handler({ action: 'remove', tenantId: 'acme', executionArn: EXEC }, ctx)).toEqual({ removed: { rule: true, record: true, targetGroup: true } });
    expect(saved.has('acme')).toBe(false);
    expect(w.fake.resources()).toEqual([]);
  });

  it('rejects a bad input with ValidationError naming the field, calling nothing', async () => {
    const { handler, w } = setUp();
    await expect(handler({ action: 'ensure', tenantId: 'ACME!', executionArn: EXEC, mode: 'live' }, ctx)).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('tenantId') as string });
    await expect(handler({ action: 'verify', tenantId: 'acme', executionArn: EXEC, stagingToken: 'short' }, ctx)).rejects.toMatchObject({ name: 'ValidationError' });
    expect(w.fake.calls).toEqual([]);
  });
});

describe('ingress handler, lifecycle guards', () => {
  it('creates a route only in staging: maintenance or live for a tenant without a route (provisioned before the cell had ingress) changes nothing', async () => {
    const { handler, saved, w } = setUp();
    expect(await handler({ action: 'ensure', tenantId: 'acme', executionArn: EXEC, mode: 'maintenance' }, ctx)).toMatchObject({ skipped: expect.stringMatching(/no ingress route/) });
    expect(await handler({ action: 'ensure', tenantId: 'acme', executionArn: EXEC, mode: 'staging', onlyIfRouted: true }, ctx)).toMatchObject({ skipped: expect.stringMatching(/no ingress route/) });
    expect(await handler({ action: 'verify', tenantId: 'acme', executionArn: EXEC }, ctx)).toMatchObject({ skipped: expect.stringMatching(/no ingress route/) });
    expect(saved.size).toBe(0);
    expect(w.fake.resources()).toEqual([]);
  });

  it('generates a staging token, keeps it on the placement only, and verifies with it', async () => {
    const { handler, saved, probes } = setUp();
    const out = (await handler({ action: 'ensure', tenantId: 'acme', executionArn: EXEC, mode: 'staging' }, ctx)) as { ingress: Record<string, unknown> };
    expect(out.ingress).not.toHaveProperty('stagingToken');
    const token = saved.get('acme')!.stagingToken!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{16,128}$/);
    await handler({ action: 'verify', tenantId: 'acme', executionArn: EXEC }, ctx);
    expect(probes[0]!.headers).toEqual({ 'x-octw-staging': token });
  });
});
