/**
 * `octw tenants devices list|approve` (infra/cli/devices.ts) against a stand-in of the gateway's
 * device-pairing API that behaves as the pinned release does (device.pair.list lists pending
 * requests; device.pair.approve approves a pending one and answers "unknown requestId" otherwise,
 * e.g. after it expired), its answers parsed with the same function as the real client's. What
 * the real gateway does with the approval (the owner's browser connects) is proven by
 * `npm run test:pairing`; what is refused before any gateway is asked by test/cli/pairing.test.ts.
 */
import type { CommandContext } from '../../infra/cli/context';
import { runDevices, type GatewayConnector } from '../../infra/cli/devices';
import { RefusedError, UsageError } from '../../infra/cli/errors';
import { GatewayCallError, GatewayUnreachableError, parseAnswer, type GatewayRpc } from '../../infra/cli/gateway-rpc';
import { OPERATOR_DEVICE_SCOPES } from '../../functions/domain/operator-device';

const NOW = 1_800_000_000_000;
const browserRequest = {
  requestId: 'req-browser-1',
  deviceId: 'd'.repeat(64),
  publicKey: 'pk',
  displayName: 'Chrome on Linux',
  platform: 'linux',
  clientId: 'openclaw-control-ui',
  clientMode: 'webchat',
  browserOrigin: 'https://acme.cell.example.com',
  role: 'operator',
  roles: ['operator'],
  scopes: [...OPERATOR_DEVICE_SCOPES],
  remoteIp: '203.0.113.7',
  ts: NOW - 60_000,
};
const nodeRequest = { ...browserRequest, requestId: 'req-node-1', deviceId: 'e'.repeat(64), clientId: 'node-host', role: 'node', roles: ['node'], scopes: [] };

/** The gateway's device pairing as state: approve takes a pending request away, or answers as the release does. */
function fakeGateway(pending: Record<string, unknown>[], opts: { listAnswer?: unknown; expireOnApprove?: boolean } = {}) {
  const calls: { method: string; params: Record<string, unknown> }[] = [];
  let scopes: readonly string[] = [];
  let closed = false;
  const rpc: GatewayRpc = {
    get scopes() {
      return scopes;
    },
    call(method, params, schema) {
      return Promise.resolve().then(() => answer(method, params, schema));
    },
    close() {
      closed = true;
    },
  };
  function answer<S extends Parameters<GatewayRpc['call']>[2]>(method: string, params: Record<string, unknown>, schema: S) {
    calls.push({ method, params });
    if (method === 'device.pair.list') return parseAnswer(method, opts.listAnswer ?? { pending, paired: [] }, schema);
    if (method === 'device.pair.approve') {
      const i = pending.findIndex((p) => p.requestId === params.requestId);
      if (i < 0 || opts.expireOnApprove) throw new GatewayCallError(`${method}: unknown requestId`, 'INVALID_REQUEST', undefined);
      const [row] = pending.splice(i, 1);
      return parseAnswer(method, { requestId: params.requestId, device: { deviceId: row!.deviceId, role: 'operator' } }, schema);
    }
    throw new GatewayCallError(`${method}: unknown method`, 'INVALID_REQUEST', undefined);
  }
  const connect: GatewayConnector = (_ctx, _tenant, _endpoint, asked) => {
    scopes = asked;
    return Promise.resolve(rpc);
  };
  return { calls, connect, asked: () => scopes, closed: () => closed };
}

function context(json: boolean) {
  const out: { printed: string; emitted: unknown[] } = { printed: '', emitted: [] };
  const ctx = {
    json,
    print: (t: string) => void (out.printed += t),
    note: () => undefined,
    emit: (d: unknown) => void out.emitted.push(d),
  } as unknown as CommandContext;
  return { ctx, out };
}

describe('octw tenants devices', () => {
  it('list: the pending requests as the gateway gave them, asking for the scopes approving needs', async () => {
    const gw = fakeGateway([browserRequest, nodeRequest]);
    const { ctx, out } = context(true);
    await runDevices(ctx, { action: 'list', id: 'acme', requestId: undefined }, gw.connect);
    expect(gw.asked()).toEqual(OPERATOR_DEVICE_SCOPES);
    expect(out.emitted).toEqual([{ tenantId: 'acme', pending: [expect.objectContaining({ requestId: 'req-browser-1', clientId: 'openclaw-control-ui' }), expect.objectContaining({ requestId: 'req-node-1', role: 'node' })] }]);
    expect(gw.calls.map((c) => c.method)).toEqual(['device.pair.list']);
    expect(gw.closed()).toBe(true);

    const human = context(false);
    await runDevices(human.ctx, { action: 'list', id: 'acme', requestId: undefined }, fakeGateway([browserRequest]).connect);
    expect(human.out.printed).toMatch(/REQUEST\s+DEVICE\s+CLIENT/);
    expect(human.out.printed).toContain('req-browser-1');
    expect(human.out.printed).toContain('operator.admin');
    const none = context(false);
    await runDevices(none.ctx, { action: 'list', id: 'acme', requestId: undefined }, fakeGateway([]).connect);
    expect(none.out.printed).toBe('no pending device requests on tenant acme\n');
  });

  it('approve: sends exactly the listed request id, and the request is gone afterwards', async () => {
    const pending = [{ ...browserRequest }];
    const gw = fakeGateway(pending);
    const { ctx, out } = context(false);
    await runDevices(ctx, { action: 'approve', id: 'acme', requestId: ' req-browser-1 ' }, gw.connect);
    expect(gw.calls).toEqual([
      { method: 'device.pair.list', params: {} },
      { method: 'device.pair.approve', params: { requestId: 'req-browser-1' } },
    ]);
    expect(out.printed).toMatch(/^approved device dddddddddddd \(openclaw-control-ui; operator\.admin .*\) on tenant acme\n$/);
    expect(pending).toEqual([]);
  });

  it('a wrong request id: refused, naming it, and nothing is approved', async () => {
    const gw = fakeGateway([{ ...browserRequest }]);
    const err = await runDevices(context(false).ctx, { action: 'approve', id: 'acme', requestId: 'req-nope' }, gw.connect).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as Error).message).toMatch(/tenant "acme" has no pending device request "req-nope": wrong id, already decided, or expired/);
    expect(gw.calls.map((c) => c.method)).toEqual(['device.pair.list']);
  });

  it('a request that expires between the list and the approval: refused with what to do', async () => {
    const gw = fakeGateway([{ ...browserRequest }], { expireOnApprove: true });
    const err = await runDevices(context(false).ctx, { action: 'approve', id: 'acme', requestId: 'req-browser-1' }, gw.connect).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as Error).message).toMatch(/device request "req-browser-1" of tenant "acme" expired or was decided before the approval: reload the Control UI/);
  });

  it('a node request: refused (the platform approves operator devices only), nothing sent', async () => {
    const gw = fakeGateway([{ ...nodeRequest }]);
    const err = await runDevices(context(false).ctx, { action: 'approve', id: 'acme', requestId: 'req-node-1' }, gw.connect).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as Error).message).toMatch(/asks for role node: the platform approves only operator devices/);
    expect(gw.calls.map((c) => c.method)).toEqual(['device.pair.list']);
  });

  it('an answer that is not the expected shape: a clear error naming the method, not a crash later', async () => {
    const gw = fakeGateway([], { listAnswer: { pending: [{ deviceId: 'x', ts: 1 }], paired: [] } });
    const err = await runDevices(context(false).ctx, { action: 'list', id: 'acme', requestId: undefined }, gw.connect).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayUnreachableError);
    expect((err as Error).message).toMatch(/^device\.pair\.list: unexpected answer from the gateway: .*requestId/s);
  });

  it('usage errors before any gateway is asked', async () => {
    const gw = fakeGateway([browserRequest]);
    const cases: [Parameters<typeof runDevices>[1], RegExp][] = [
      [{ action: undefined, id: 'acme', requestId: undefined }, /missing command after "tenants devices": list or approve/],
      [{ action: 'remove', id: 'acme', requestId: undefined }, /unknown command "tenants devices remove"/],
      [{ action: 'approve', id: 'acme', requestId: undefined }, /missing REQUEST/],
      [{ action: 'list', id: 'acme', requestId: 'extra' }, /unexpected argument "extra"/],
      [{ action: 'list', id: 'acme', requestId: undefined, endpoint: 'ftp://x' }, /must be an http\(s\) origin/],
    ];
    for (const [args, message] of cases) {
      const err = await runDevices(context(false).ctx, args, gw.connect).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(message);
    }
    expect(gw.calls).toEqual([]);
  });
});
