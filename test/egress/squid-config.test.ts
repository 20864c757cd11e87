import fc from 'fast-check';
import { randomSalt, sha512Crypt } from '../../functions/egress/sha512-crypt';
import { PolicyRenderError, renderSquidConfig, type ProxyTenantPolicy, type SquidRenderOptions } from '../../functions/egress/squid-config';

const O: SquidRenderOptions = {
  listen: { address: '127.0.0.1', port: 3128 },
  paths: { passwdFile: '/p/passwd', bumpCert: '/p/b.crt', bumpKey: '/p/b.key', pidFile: '/p/pid', cacheLog: '/p/cache.log', accessLog: 'stdio:/dev/stdout', denyLog: 'stdio:/dev/stdout', coredumpDir: '/tmp' },
  deniedDestinations: ['10.0.0.0/8'],
  credentialsTtlSeconds: 60,
  authChildren: 2,
  shutdownLifetimeSeconds: 1,
};
const HASH = sha512Crypt('pw', 'salt');
const t = (tenantId: string, hosts: string[], credentialHash = HASH): ProxyTenantPolicy => ({ tenantId, credentialHash, rules: hosts.map((host) => ({ host, ports: [443], origin: ['tenant'] })) });

describe('squid.conf renderer', () => {
  it('refuses input that could inject configuration: a bad tenant id, a non-canonical host, a plaintext password, a duplicate tenant', () => {
    expect(() => renderSquidConfig([t('tenant-a\nhttp_access allow all', [])], O)).toThrow(PolicyRenderError);
    expect(() => renderSquidConfig([t('tenant-alpha', ['api.telegram.org all'])], O)).toThrow(/not canonical/);
    expect(() => renderSquidConfig([t('tenant-alpha', ['API.telegram.org'])], O)).toThrow(/not canonical/);
    expect(() => renderSquidConfig([t('tenant-alpha', ['a.example.com'], 'hunter2')], O)).toThrow(/SHA-512 crypt/);
    expect(() => renderSquidConfig([t('tenant-alpha', []), t('tenant-alpha', [])], O)).toThrow(/twice/);
    expect(() => renderSquidConfig([], { ...O, deniedDestinations: ['all'] })).toThrow(/not a CIDR/);
  });

  it('shares one host ACL between tenants and allows CONNECT only with the tenant credential, host and port together', () => {
    const { squidConf, passwd } = renderSquidConfig([t('tenant-alpha', ['api.telegram.org']), t('tenant-bravo', ['api.telegram.org', '*.slack.com'])], O);
    expect(squidConf.match(/dstdomain -n api\.telegram\.org/g)).toHaveLength(1);
    expect(squidConf).toContain('dstdom_regex -n -i ^([a-z0-9-]+\\.)+slack\\.com$');
    expect(squidConf).toMatch(/http_access allow CONNECT u_tenant-alpha h\d+ p\d+ r_ok/);
    expect(squidConf).toMatch(/ssl_bump splice step2 u_tenant-bravo h\d+ s\d+/);
    expect(squidConf.trimEnd().split('\n').at(-1)).toBe('ssl_bump terminate r_sni');
    expect(passwd.split('\n').filter(Boolean)).toEqual([`tenant-alpha:${HASH}`, `tenant-bravo:${HASH}`]);
  });

  it('property: every http_access allow line names a tenant credential; the last http_access line denies', () => {
    const host = fc.stringMatching(/^[a-z]{1,8}\.(com|org|net)$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{3,10}$/), { minLength: 0, maxLength: 5 }), fc.array(host, { maxLength: 4 }), (ids, hosts) => {
        const { squidConf } = renderSquidConfig(ids.map((id) => t(id, [...new Set(hosts)])), O);
        const access = squidConf.split('\n').filter((l) => l.startsWith('http_access'));
        for (const l of access.filter((x) => x.startsWith('http_access allow'))) expect(l).toMatch(/ u_[a-z0-9-]+ /);
        expect(access.at(-1)).toBe('http_access deny r_none');
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
