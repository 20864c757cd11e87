import fc from 'fast-check';
import { compilePolicy } from '../../functions/egress/policy-map';
import { randomSalt, sha512Crypt } from '../../functions/egress/sha512-crypt';
import { PolicyRenderError, renderSquidConfig, renderTenantFiles, type ProxyTenantPolicy, type SquidRenderOptions } from '../../functions/egress/squid-config';

const O: SquidRenderOptions = {
  listen: { address: '127.0.0.1', port: 3128 },
  paths: { passwdFile: '/p/passwd', policyFile: '/p/policy-map.json', bumpCert: '/p/b.crt', bumpKey: '/p/b.key', pidFile: '/p/pid', cacheLog: '/p/cache.log', accessLog: 'stdio:/dev/stdout', denyLog: 'stdio:/dev/stdout', coredumpDir: '/tmp' },
  deniedDestinations: ['10.0.0.0/8'],
  credentialsTtlSeconds: 60,
  authChildren: 2,
  shutdownLifetimeSeconds: 1,
  aclHelper: { command: ['/usr/bin/node', '/opt/octw/acl-helper.mjs'], ttlSeconds: 2, children: 2, concurrency: 100 },
};
const HASH = sha512Crypt('pw', 'salt');
const t = (tenantId: string, hosts: string[], credentialHash = HASH): ProxyTenantPolicy => ({ tenantId, credentialHash, rules: hosts.map((host) => ({ host, ports: [443], origin: ['tenant'] })) });

describe('squid.conf and tenant files renderer', () => {
  it('refuses tenant input that could inject into the credential file or the map: a bad tenant id, a non-canonical host, a plaintext password, a duplicate tenant', () => {
    expect(() => renderTenantFiles([t('tenant-a\nhttp_access allow all', [])], 'v1')).toThrow(PolicyRenderError);
    expect(() => renderTenantFiles([t('tenant-a:x', [])], 'v1')).toThrow(PolicyRenderError);
    expect(() => renderTenantFiles([t('tenant-alpha', ['api.telegram.org all'])], 'v1')).toThrow(/not canonical/);
    expect(() => renderTenantFiles([t('tenant-alpha', ['API.telegram.org'])], 'v1')).toThrow(/not canonical/);
    expect(() => renderTenantFiles([t('tenant-alpha', ['a.example.com'], 'hunter2')], 'v1')).toThrow(/SHA-512 crypt/);
    expect(() => renderTenantFiles([t('tenant-alpha', []), t('tenant-alpha', [])], 'v1')).toThrow(/twice/);
  });

  it('refuses global settings Squid must not be given: a non-CIDR destination, a path with spaces, a helper TTL of 0', () => {
    expect(() => renderSquidConfig({ ...O, deniedDestinations: ['all'] })).toThrow(/not a CIDR/);
    expect(() => renderSquidConfig({ ...O, paths: { ...O.paths, policyFile: '/p/x y' } })).toThrow(/policyFile/);
    expect(() => renderSquidConfig({ ...O, aclHelper: { ...O.aclHelper, command: ['/usr/bin/node', '/x\nhttp_access allow all'] } })).toThrow(PolicyRenderError);
    expect(() => renderSquidConfig({ ...O, aclHelper: { ...O.aclHelper, ttlSeconds: 0 } })).toThrow(/ttlSeconds/);
  });

  it('squid.conf names no tenant: the same text whatever the policy; the allow lines all need the policy helper', () => {
    const conf = renderSquidConfig(O);
    expect(conf).not.toMatch(/tenant-|telegram/);
    expect(conf).toContain('external_acl_type octw_policy ttl=2 negative_ttl=2 children-max=2 children-startup=1 children-idle=1 concurrency=100 queue-size=800 %DATA %un %>rd %>rP %ssl::>sni /usr/bin/node /opt/octw/acl-helper.mjs /p/policy-map.json');
    const access = conf.split('\n').filter((l) => l.startsWith('http_access'));
    for (const l of access.filter((x) => x.startsWith('http_access allow'))) expect(l).toMatch(/ policy_(connect|http) /);
    expect(access.at(-1)).toBe('http_access deny r_none');
    const bump = conf.split('\n').filter((l) => l.startsWith('ssl_bump'));
    expect(bump).toEqual(['ssl_bump peek step1', 'ssl_bump splice step2 policy_tls', 'ssl_bump terminate r_sni']);
  });

  it('the credential file and the map carry each tenant; the map is what the helper compiles', () => {
    const { passwd, policyMap } = renderTenantFiles([t('tenant-alpha', ['api.telegram.org']), t('tenant-bravo', ['api.telegram.org', '*.slack.com'])], 'v7');
    expect(passwd.split('\n').filter(Boolean)).toEqual([`tenant-alpha:${HASH}`, `tenant-bravo:${HASH}`]);
    const compiled = compilePolicy(JSON.parse(policyMap));
    expect(compiled.version).toBe('v7');
    expect([...compiled.tenants.keys()]).toEqual(['tenant-alpha', 'tenant-bravo']);
  });

  it('property: every rendered map compiles, with exactly the tenants given', () => {
    const host = fc.stringMatching(/^[a-z]{1,8}\.(com|org|net)$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{3,10}$/), { minLength: 0, maxLength: 5 }), fc.array(host, { maxLength: 4 }), (ids, hosts) => {
        const { policyMap, passwd } = renderTenantFiles(ids.map((id) => t(id, [...new Set(hosts)])), 'v');
        expect([...compilePolicy(JSON.parse(policyMap)).tenants.keys()].sort()).toEqual([...ids].sort());
        expect(passwd.split('\n').filter(Boolean)).toHaveLength(ids.length);
      }),
    );
  });

  it('sha512Crypt: known vector and random salts', () => {
    // openssl passwd -6 -salt abcdefgh secretA
    expect(sha512Crypt('secretA', 'abcdefgh')).toBe('$6$abcdefgh$kUQaUtzxVXuxhmjfBELyfsAGwwF0jd6lVtlUYmievPcB/GBAdQS0lSZUv8iiNeIyDjyHmHdbPGxTZmuFdZ06n/');
    expect(sha512Crypt('hello', 'salt', 1000)).toBe('$6$rounds=1000$salt$rH6nhef0tQpRahtjxCc7mAWshDc9TiRl4UC1.OLEUmzJhyeFjjSeLiEVeVEjR1aq4lDZBV2vuckxoxCzvVlGM0');
    expect(randomSalt()).toMatch(/^[./0-9A-Za-z]{16}$/);
  });
});
