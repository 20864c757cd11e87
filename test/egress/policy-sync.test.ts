import { compilePolicy, decide } from '../../functions/egress/policy-map';
import { PolicySync, type PolicySource, type SquidControl } from '../../functions/egress/policy-sync';
import { sha512Crypt } from '../../functions/egress/sha512-crypt';
import type { SquidRenderOptions } from '../../functions/egress/squid-config';

const RENDER: SquidRenderOptions = {
  listen: { address: '127.0.0.1', port: 3128 },
  paths: { passwdFile: '/p/passwd', policyFile: '/p/policy-map.json', bumpCert: '/p/b.crt', bumpKey: '/p/b.key', pidFile: '/p/pid', cacheLog: '/p/cache.log', accessLog: 'stdio:/dev/stdout', denyLog: 'stdio:/dev/stdout', coredumpDir: '/tmp' },
  deniedDestinations: ['10.0.0.0/8'],
  credentialsTtlSeconds: 60,
  authChildren: 2,
  shutdownLifetimeSeconds: 1,
  aclHelper: { command: ['/usr/bin/node', '/opt/octw/acl-helper.mjs'], ttlSeconds: 2, children: 1, concurrency: 10 },
};
const HASH = sha512Crypt('pw', 'salt');
const doc = (version: string, host = 'api.telegram.org') => ({ version, tenants: [{ tenantId: 'tenant-alpha', credentialHash: HASH, rules: [{ host, ports: [443], origin: ['tenant'] }] }] });

function harness() {
  let now = 0;
  let next: () => Promise<unknown> = () => Promise.resolve(doc('1'));
  const maps: string[] = [];
  const configs: string[] = [];
  const source: PolicySource = { load: () => next() };
  const control: SquidControl = {
    writeConfig: (squidConf) => {
      configs.push(squidConf);
      return Promise.resolve();
    },
    writeTenants: ({ policyMap }) => {
      maps.push(policyMap);
      return Promise.resolve();
    },
  };
  const sync = new PolicySync(source, control, RENDER, { maxStaleMs: 10_000, now: () => now });
  return {
    sync,
    maps,
    configs,
    advance: (ms: number) => (now += ms),
    setSource: (f: () => Promise<unknown>) => (next = f),
    /** What the helper would answer with the last map written. */
    allows: (host: string) => decide(compilePolicy(JSON.parse(maps.at(-1) ?? 'null')), { phase: 'connect', user: 'tenant-alpha', host, port: 443, sni: undefined }).ok,
  };
}

describe('policy sync (fails closed, never reconfigures Squid)', () => {
  it('starts denying everything, applies a good document, and swaps the map only on a new version; squid.conf is written once', async () => {
    const h = harness();
    await h.sync.writeInitial();
    expect(h.allows('api.telegram.org')).toBe(false);
    expect(h.configs).toHaveLength(1);
    expect(h.configs[0]).toContain('http_access deny r_none');
    await expect(h.sync.tick()).resolves.toEqual({ state: 'applied', version: '1', tenants: 1 });
    expect(h.allows('api.telegram.org')).toBe(true);
    await expect(h.sync.tick()).resolves.toEqual({ state: 'unchanged', version: '1' });
    expect(h.maps).toHaveLength(2);
    h.setSource(() => Promise.resolve(doc('2', 'discord.com')));
    await expect(h.sync.tick()).resolves.toMatchObject({ state: 'applied', version: '2' });
    expect(h.allows('discord.com')).toBe(true);
    expect(h.allows('api.telegram.org')).toBe(false);
    expect(h.configs).toHaveLength(1);
  });

  it('keeps the last good policy for maxStaleMs when the source fails, then writes the empty map', async () => {
    const h = harness();
    await h.sync.writeInitial();
    await h.sync.tick();
    h.setSource(() => Promise.reject(new Error('ProvisionedThroughputExceededException')));
    h.advance(5_000);
    await expect(h.sync.tick()).resolves.toMatchObject({ state: 'kept-last-good', staleMs: 5_000 });
    expect(h.allows('api.telegram.org')).toBe(true);
    h.advance(6_000);
    await expect(h.sync.tick()).resolves.toMatchObject({ state: 'fail-closed' });
    expect(h.allows('api.telegram.org')).toBe(false);
    expect(h.maps).toHaveLength(3);
    // Recovery applies the document again.
    h.setSource(() => Promise.resolve(doc('1')));
    await expect(h.sync.tick()).resolves.toMatchObject({ state: 'applied', version: '1' });
    expect(h.allows('api.telegram.org')).toBe(true);
  });

  it('treats an invalid document as unavailable (never applies part of it), and the reserved deny-all version too', async () => {
    const h = harness();
    await h.sync.writeInitial();
    h.setSource(() => Promise.resolve({ version: '9', tenants: [{ tenantId: 'tenant-alpha', credentialHash: 'plaintext', rules: [] }] }));
    h.advance(20_000);
    await expect(h.sync.tick()).resolves.toMatchObject({ state: 'fail-closed' });
    expect(h.maps).toHaveLength(1); // still the initial deny-all
    h.setSource(() => Promise.resolve(doc('(deny-all)')));
    await expect(h.sync.tick()).resolves.toMatchObject({ state: 'fail-closed', error: expect.stringContaining('reserved') });
  });
});
