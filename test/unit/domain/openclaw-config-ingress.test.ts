/** The ingress keys of the rendered openclaw.json (issue 12; contract 3): its own function, called from the main render. */
import { ingressGatewayConfig, OpenClawConfigSchema, renderOpenClawConfig, serializeOpenClawConfig } from '../../../functions/domain/openclaw-config';
import { PlanSchema } from '../../../functions/domain/tenant';

const plan = PlanSchema.parse({
  id: 'standard',
  cpu: 1024,
  memoryMiB: 2048,
  image: `ghcr.io/openclaw/openclaw@sha256:${'a'.repeat(64)}`,
  maxAllowlistRules: 10,
  modelProviders: [{ id: 'stub', baseUrl: 'http://127.0.0.1:18790/v1', api: 'openai-completions', models: [{ id: 'm', name: 'M' }] }],
  plugins: ['memory-core'],
});
const ingress = { domain: 'cell-1.example.com', ingressCidrs: ['10.64.0.0/24', '10.64.1.0/24'] };

describe('ingress keys of the gateway config', () => {
  it('with ingress: trusts exactly the ingress subnets and allows exactly the tenant origin; token auth unchanged', () => {
    const cfg = OpenClawConfigSchema.parse(renderOpenClawConfig({ tenantId: 'acme-corp', plan, region: 'eu-west-1', ingress }));
    expect(cfg.gateway.trustedProxies).toEqual(['10.64.0.0/24', '10.64.1.0/24']);
    expect(cfg.gateway.controlUi).toEqual({ enabled: true, allowedOrigins: ['https://acme-corp.cell-1.example.com'] });
    const without = renderOpenClawConfig({ tenantId: 'acme-corp', plan, region: 'eu-west-1' });
    expect(cfg.gateway.auth).toEqual(without.gateway.auth);
    expect(cfg.gateway.auth.mode).toBe('token');
  });

  it('without ingress: the Control UI stays off with no origin, no trusted proxy, and the file is what it was before ingress existed', () => {
    const cfg = renderOpenClawConfig({ tenantId: 'acme-corp', plan, region: 'eu-west-1' });
    expect(cfg.gateway.controlUi).toEqual({ enabled: false, allowedOrigins: [] });
    expect(cfg.gateway).not.toHaveProperty('trustedProxies');
    expect(serializeOpenClawConfig(cfg)).not.toMatch(/trustedProxies/);
  });

  it('refuses to trust every address and never allows another tenant origin', () => {
    expect(() => ingressGatewayConfig('acme-corp', { domain: 'cell-1.example.com', ingressCidrs: ['0.0.0.0/0'] })).toThrow(/trust every address/);
    expect(() => ingressGatewayConfig('acme-corp', { domain: 'cell-1.example.com', ingressCidrs: [] })).toThrow();
    const other = ingressGatewayConfig('other-one', ingress);
    expect(other.controlUi.allowedOrigins).toEqual(['https://other-one.cell-1.example.com']);
    expect(other.controlUi.allowedOrigins.join()).not.toContain('acme-corp');
  });
});
