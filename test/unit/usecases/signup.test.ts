import { configHash } from '../../../functions/domain/config-hash';
import { ValidationError } from '../../../functions/domain/errors';
import type { Plan } from '../../../functions/domain/tenant';
import { validateSignup } from '../../../functions/usecases/signup';

const plans: Plan[] = [
  {
    id: 'standard',
    cpu: 1024,
    memoryMiB: 2048,
    image: `ghcr.io/openclaw/openclaw@sha256:${'b'.repeat(64)}`,
    bedrockModels: ['anthropic.claude-x-v1:0'],
    modelProviders: [],
    plugins: ['amazon-bedrock'],
    maxAllowlistRules: 2,
    spot: false,
  },
];
const ctx = { plans, vpcCidrs: ['10.40.0.0/16'], defaultAllowlist: [] };
const ok = { tenantId: 'acme-co', displayName: 'Acme', ownerEmail: 'ops@acme.example', plan: 'standard' };

function refusal(input: unknown): ValidationError {
  try {
    validateSignup(input, ctx);
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('validateSignup', () => {
  it('accepts a minimal signup and fills the empty allowlist', () => {
    const v = validateSignup(ok, ctx);
    expect(v.request.egressAllowlist).toEqual([]);
    expect(v.plan.id).toBe('standard');
    expect(v.configHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each([
    ['Acme', 'uppercase'],
    ['ab', 'too short'],
    ['1acme', 'leading digit'],
    ['acme-', 'trailing dash'],
    ['admin', 'reserved word'],
    ['a'.repeat(33), 'too long'],
  ])('refuses tenantId %s (%s) naming the field', (tenantId) => {
    const err = refusal({ ...ok, tenantId });
    expect(err.issues[0]?.path).toBe('tenantId');
  });

  it('refuses an unknown plan and lists the known ones', () => {
    const err = refusal({ ...ok, plan: 'platinum' });
    expect(err.issues).toEqual([{ path: 'plan', message: 'unknown plan "platinum"; known plans: standard' }]);
  });

  it('refuses 0.0.0.0/0 with the field path', () => {
    const err = refusal({ ...ok, egressAllowlist: [{ cidr: '0.0.0.0/0', ports: [443] }] });
    expect(err.issues[0]?.path).toBe('egressAllowlist[0].cidr');
  });

  it('refuses a CIDR inside the VPC (it would reach other tenants)', () => {
    const err = refusal({ ...ok, egressAllowlist: [{ cidr: '10.40.3.0/24', ports: [443] }] });
    expect(err.message).toMatch(/VPC/);
  });

  it('refuses more rules than the plan allows', () => {
    const err = refusal({ ...ok, egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443, 80, 8080] }] });
    expect(err.message).toMatch(/rules/);
  });

  it('refuses a port out of range and unknown fields', () => {
    expect(refusal({ ...ok, egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [70000] }] }).issues[0]?.path).toBe(
      'egressAllowlist[0].ports[0]',
    );
    expect(refusal({ ...ok, admin: true }).message).toMatch(/admin/);
  });

  it('gives the same config hash for the same plan and allowlist, another for a different allowlist', () => {
    const a = validateSignup({ ...ok, egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443] }] }, ctx);
    const b = validateSignup({ ...ok, displayName: 'Other', egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443] }] }, ctx);
    const c = validateSignup({ ...ok, egressAllowlist: [{ cidr: '198.51.100.0/24', ports: [443] }] }, ctx);
    expect(a.configHash).toBe(b.configHash);
    expect(a.configHash).not.toBe(c.configHash);
  });
});

describe('validateSignup with cell default egress rules', () => {
  const defaults = Array.from({ length: 6 }, (_, i) => ({
    cidr: `198.51.100.${i * 16}/28`,
    ports: Array.from({ length: i < 5 ? 10 : 6 }, (_, p) => 8000 + p),
    protocol: 'tcp' as const,
    description: 'cell default',
  }));

  it('counts the defaults against the security group: 56 default rules (60 minus the 4 platform rules) leave no room for a tenant rule', () => {
    const tight = { ...ctx, plans: [{ ...plans[0]!, maxAllowlistRules: 50 }], defaultAllowlist: defaults };
    expect(() => validateSignup({ ...ok, egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443] }] }, tight)).toThrow(/rules/);
    expect(validateSignup(ok, tight).request.egressAllowlist).toEqual([]);
  });
});

describe('validateSignup with a host allowlist', () => {
  const egressPlans: Plan[] = [
    { ...plans[0]!, egress: { maxHostRules: 3, allow: { hosts: [{ host: '*.example.net', ports: [443] }], presets: ['telegram'] }, awsEndpointExceptions: [] } },
  ];
  const hctx = { plans: egressPlans, vpcCidrs: ['10.40.0.0/16'], defaultAllowlist: [], privateZones: ['cell-1.octw.internal'] };

  it('stores presets expanded and own hosts canonical, and the config hash covers them', () => {
    const v = validateSignup({ ...ok, hostAllowlist: [{ preset: 'telegram' }, { host: 'API.Example.net', ports: [443] }] }, hctx);
    expect(v.hostAllowlist).toEqual([
      { host: 'api.example.net', ports: [443], origin: ['tenant'] },
      { host: 'api.telegram.org', ports: [443], origin: ['preset:telegram'] },
    ]);
    expect(validateSignup({ ...ok, hostAllowlist: [{ preset: 'telegram' }] }, hctx).configHash).not.toBe(v.configHash);
    // Without a host policy the hash is what it was before host policies existed.
    expect(validateSignup(ok, hctx).configHash).toBe(configHash({ plan: egressPlans[0], egressAllowlist: [] }));
  });

  it.each([
    [{ host: 'evil.example.org', ports: [443] }, /outside the plan's bounds/],
    [{ preset: 'slack' }, /preset "slack" is not allowed by the plan/],
    [{ host: 'proxy.cell-1.octw.internal', ports: [443] }, /\.internal/],
    [{ host: '10.0.0.1', ports: [443] }, /IP literal/],
    [{ host: 'x.example.net', ports: [22] }, /outside the plan's bounds/],
    [{ url: 'https://x.example.net' }, /hostAllowlist\[0\]/],
  ])('refuses %j with a clear message', (entry, message) => {
    expect(() => validateSignup({ ...ok, hostAllowlist: [entry] }, hctx)).toThrow(message);
  });

  it('refuses every host on a plan without egress bounds', () => {
    expect(() => validateSignup({ ...ok, hostAllowlist: [{ preset: 'telegram' }] }, ctx)).toThrow(/signup refused: .*preset "telegram" is not allowed by the plan/);
  });
});
