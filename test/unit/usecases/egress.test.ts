/** The tenant's proxy credential and policy item (functions/usecases/egress.ts), with in-memory stand-ins for the table and the secret. */
import type { HostRule } from '../../../functions/domain/egress-policy';
import { passwordOf, proxyContainerEnv, proxyUrl } from '../../../functions/domain/egress-proxy-client';
import type { TenantRecord } from '../../../functions/domain/tenant-record';
import { sha512Crypt } from '../../../functions/egress/sha512-crypt';
import { applyEgressPolicy, ensureEgress, removeEgress, type EgressDeps } from '../../../functions/usecases/egress';

const PROXY = { enabled: true as const, policyTableName: 'p', proxyHost: 'proxy.cell-1.octw.internal', port: 3128, clientSecurityGroupId: 'sg-0123' };
const TELEGRAM: HostRule = { host: 'api.telegram.org', ports: [443], origin: ['preset:telegram'] };

function record(hostAllowlist: HostRule[]): TenantRecord {
  return {
    pk: 'TENANT#acme-co', sk: 'META', tenantId: 'acme-co', status: 'PROVISIONING', version: 2, generation: 1, cell: 'cell-1',
    displayName: 'Acme', ownerEmail: 'ops@acme.example', plan: 'standard', egressAllowlist: [], hostAllowlist, configHash: 'h',
    resources: {}, transitions: {}, createdAt: 'now', updatedAt: 'now',
  };
}

function fakes() {
  const items = new Map<string, { credentialHash: string; rules: HostRule[]; updatedAt: string; tenantId: string }>();
  const secrets = new Map<string, string>();
  const audits: unknown[] = [];
  const resources: unknown[] = [];
  const deps: EgressDeps = {
    proxy: PROXY,
    policies: {
      get: (id) => Promise.resolve(items.get(id)),
      put: (tenantId, credentialHash, rules) => {
        const item = { tenantId, credentialHash, rules: [...rules], updatedAt: 'now' };
        items.set(tenantId, item);
        return Promise.resolve(item);
      },
      delete: (id) => Promise.resolve(items.delete(id) ? 'deleted' : 'absent'),
    },
    secrets: {
      put: (id, value) => {
        secrets.set(id, value);
        return Promise.resolve(`arn:aws:secretsmanager:eu-west-1:111122223333:secret:octw/tenants/cell-1/${id}/egress-proxy-AbCdEf`);
      },
      delete: (id) => Promise.resolve(secrets.delete(id) ? 'deleted' : 'absent'),
    },
    store: {
      setResources: (...args) => {
        resources.push(args);
        return Promise.resolve();
      },
      appendAudit: (_r, entry) => {
        audits.push(entry);
        return Promise.resolve();
      },
    },
  };
  return { deps, items, secrets, audits, resources };
}

describe('ensureEgress', () => {
  it('stores the URL in the secret and only a hash of its password in the item; a second run rotates both', async () => {
    const f = fakes();
    const out = await ensureEgress(f.deps, record([TELEGRAM]), 'exec');
    expect(JSON.stringify(out)).not.toContain(passwordOf(f.secrets.get('acme-co')!));
    const first = { url: f.secrets.get('acme-co')!, hash: f.items.get('acme-co')!.credentialHash };
    const password = passwordOf(first.url)!;
    expect(sha512Crypt(password, first.hash.split('$')[2]!)).toBe(first.hash);
    expect(f.items.get('acme-co')?.rules).toEqual([TELEGRAM]);
    await ensureEgress(f.deps, record([TELEGRAM]), 'exec');
    expect(f.secrets.get('acme-co')).not.toBe(first.url);
    expect(f.items.get('acme-co')?.credentialHash).not.toBe(first.hash);
    expect(sha512Crypt(password, f.items.get('acme-co')!.credentialHash.split('$')[2]!)).not.toBe(f.items.get('acme-co')!.credentialHash);
  });
});

describe('applyEgressPolicy', () => {
  it('keeps the credential, rewrites the rules and audits the diff', async () => {
    const f = fakes();
    await ensureEgress(f.deps, record([TELEGRAM]), 'exec');
    const hash = f.items.get('acme-co')!.credentialHash;
    const out = await applyEgressPolicy(f.deps, record([{ host: 'slack.com', ports: [443], origin: ['preset:slack'] }]), 'exec2');
    expect(out).toEqual({ added: 1, removed: 1, credential: 'kept' });
    expect(f.items.get('acme-co')?.credentialHash).toBe(hash);
    expect(f.audits).toEqual([{ transition: 'egressPolicy', executionArn: 'exec2', detail: { egressPolicy: { add: [{ host: 'slack.com', port: 443 }], remove: [{ host: 'api.telegram.org', port: 443 }] } } }]);
  });

  it('audits nothing when nothing changes', async () => {
    const f = fakes();
    await ensureEgress(f.deps, record([TELEGRAM]), 'exec');
    expect(await applyEgressPolicy(f.deps, record([TELEGRAM]), 'exec2')).toEqual({ added: 0, removed: 0, credential: 'kept' });
    expect(f.audits).toEqual([]);
  });
});

describe('removeEgress', () => {
  it('deletes the item and the secret and forgets the secret ARN', async () => {
    const f = fakes();
    await ensureEgress(f.deps, record([TELEGRAM]), 'exec');
    expect(await removeEgress(f.deps, record([TELEGRAM]), 'exec')).toEqual({ policy: 'deleted', secret: 'deleted' });
    expect(f.items.size + f.secrets.size).toBe(0);
    expect(f.resources.at(-1)).toEqual(['acme-co', 'exec', { proxySecretArn: null }]);
  });
});

describe('proxy client', () => {
  it('refuses a password that would need URL encoding', () => {
    expect(() => proxyUrl(PROXY, 'acme-co', 'a:b@c')).toThrow(/URL-safe/);
  });

  it('routes plans with Bedrock by environment only (NO_PROXY honoured), others managed', () => {
    const bedrock = proxyContainerEnv({ bedrockModels: ['m'] }, 'arn');
    expect(bedrock.secrets.map((s) => s.name)).toEqual(['HTTPS_PROXY', 'HTTP_PROXY']);
    expect(bedrock.environment).toEqual([{ name: 'NO_PROXY', value: 'localhost,127.0.0.1,::1,169.254.170.2,169.254.169.254,.amazonaws.com' }]);
    expect(proxyContainerEnv({ bedrockModels: [] }, 'arn').secrets.map((s) => s.name)).toEqual(['OPENCLAW_PROXY_URL', 'HTTPS_PROXY', 'HTTP_PROXY']);
  });
});
