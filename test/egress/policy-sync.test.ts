import { PolicySync, DENY_ALL_VERSION, type PolicySource, type SquidControl } from '../../functions/egress/policy-sync';
import { sha512Crypt } from '../../functions/egress/sha512-crypt';
import type { SquidRenderOptions } from '../../functions/egress/squid-config';

const RENDER: SquidRenderOptions = {
  listen: { address: '127.0.0.1', port: 3128 },
  paths: { passwdFile: '/p/passwd', bumpCert: '/p/b.crt', bumpKey: '/p/b.key', pidFile: '/p/pid', cacheLog: '/p/cache.log', accessLog: 'stdio:/dev/stdout', denyLog: 'stdio:/dev/stdout', coredumpDir: '/tmp' },
  deniedDestinations: ['10.0.0.0/8'],
  credentialsTtlSeconds: 60,
  authChildren: 2,
  shutdownLifetimeSeconds: 1,
};
const HASH = sha512Crypt('pw', 'salt');
const doc = (version: string, host = 'api.telegram.org') => ({ version, tenants: [{ tenantId: 'tenant-alpha', credentialHash: HASH, rules: [{ host, ports: [443], origin: ['tenant'] }] }] });

function harness() {
  let now = 0;
  let next: () => Promise<unknown> = () => Promise.resolve(doc('1'));
  const written: string[] = [];
  let reconfigures = 0;
  const source: PolicySource = { load: () => next() };
  const control: SquidControl = {
    write: ({ squidConf }) => {
      written.push(squidConf);
      return Promise.resolve();
    },
    reconfigure: () => {
      reconfigures += 1;
      return Promise.resolve();
    },
  };
  const sync = new PolicySync(source, control, RENDER, { maxStaleMs: 10_000, now: () => now });
  return {
    sync,
    written,
    reconfigures: () => reconfigures,
    advance: (ms: number) => (now += ms),
    setSource: (f: () => Promise<unknown>) => (next = f),
    allows: (host: string) => (written.at(-1) ?? '').includes(`dstdomain -n ${host}`),
  };
}

describe('policy sync (fails closed)', () => {
  it('starts denying everything, applies a good document, and reconfigures only on a new version', async () => {
    const h = harness();
    await h.sync.writeInitial();
    expect(h.allows('api.telegram.org')).toBe(false);
    expect(h.written.at(-1)).toContain('http_access deny r_none');
    await expect(h.sync.tick()).resolves.toEqual({ state: 'applied', version: '1', tenants: 1 });
    expect(h.allows('api.telegram.org')).toBe(true);
    await expect(h.sync.tick()).resolves.toEqual({ state: 'unchanged', version: '1' });
    expect(h.reconfigures()).toBe(1);
    h.setSource(() => Promise.resolve(doc('2', 'discord.com')));
    await expect(h.sync.tick()).resolves.toMatchObject({ state: 'applied', version: '2' });
    expect(h.allows('discord.com')).toBe(true);
    expect(h.allows('api.telegram.org')).toBe(false);
  });

  it('keeps the last good policy for maxStaleMs when the source fails, then denies everything', async () => {
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
    expect(h.reconfigures()).toBe(2);
    // Recovery applies the document again.
    h.setSource(() => Promise.resolve(doc('1')));
    await expect(h.sync.tick()).resolves.toMatchObject({ state: 'applied', version: '1' });
  });

  it('treats an invalid document as unavailable (never applies part of it)', async () => {
    const h = harness();
    await h.sync.writeInitial();
    h.setSource(() => Promise.resolve({ version: '9', tenants: [{ tenantId: 'tenant-alpha', credentialHash: 'plaintext', rules: [] }] }));
    h.advance(20_000);
    const r = await h.sync.tick();
    expect(r.state).toBe('fail-closed');
    expect(h.written).toHaveLength(1); // still the initial deny-all; no reconfigure needed
    void DENY_ALL_VERSION;
  });
});
