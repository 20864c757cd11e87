/** Helpers of the conformance tests: the plans to cover, task definitions, OpenClaw's CLI, timings. */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { TenantChannel } from '../../functions/domain/channels';
import { renderOpenClawConfig, serializeOpenClawConfig } from '../../functions/domain/openclaw-config';
import { PLUGINS_OUTSIDE_PACKAGE_SET } from '../../functions/domain/openclaw-release';
import { renderTaskDefinition, type TaskDefinitionShape } from '../../functions/domain/task-definition';
import { PlanCatalogueSchema, type Plan } from '../../functions/domain/tenant';
import { LOCAL_MODEL_STUB_PORT, LOCAL_PLANS } from '../../test/local-cloud/env';
import type { GatewayHandle } from './launch-gateway';
import { CONFORMANCE_DIR } from './paths';

export const REPO_DIR = join(CONFORMANCE_DIR, '..');

/** The plan catalogue of cdk.json, parsed as synth parses it. */
export function cdkPlans(): Plan[] {
  const cdk = JSON.parse(readFileSync(join(REPO_DIR, 'cdk.json'), 'utf8')) as { context: { plans: unknown } };
  return PlanCatalogueSchema.parse(cdk.context.plans);
}

/**
 * Every plan to check: cdk.json's, the local cloud's, and one per model/channel combination the
 * platform renders that those do not already cover (channels: none is rendered per tenant yet, only
 * channels.defaults; models: Bedrock, a custom provider without key, a custom provider with a key
 * by SecretRef, and both kinds together).
 */
export function plansToCover(): { label: string; plan: Plan }[] {
  const stub = LOCAL_PLANS.find((p) => p.id === 'offline');
  if (!stub) throw new Error('the local cloud has no "offline" plan');
  const both: Plan = {
    ...stub,
    id: 'combo-both',
    bedrockModels: ['anthropic.claude-sonnet-4-5-20250929-v1:0'],
    modelProviders: [
      {
        ...stub.modelProviders[0]!,
        id: 'keyed',
        apiKey: 'tenant',
      },
    ],
    plugins: ['amazon-bedrock', 'memory-core'],
  };
  const keyed: Plan = { ...both, id: 'combo-keyed', bedrockModels: [], plugins: ['memory-core'] };
  return [
    ...cdkPlans().map((plan) => ({ label: `cdk.json plan ${plan.id}`, plan })),
    ...LOCAL_PLANS.map((plan) => ({ label: `local-cloud plan ${plan.id}`, plan })),
    { label: 'combination: custom provider with key', plan: PlanCatalogueSchema.parse([keyed])[0]! },
    { label: 'combination: Bedrock + custom provider with key', plan: PlanCatalogueSchema.parse([both])[0]! },
    {
      label: 'combination: Bedrock with a guardrail and a token budget',
      plan: PlanCatalogueSchema.parse([{ ...both, id: 'combo-guarded', modelProviders: [], bedrockGuardrail: { id: 'gr0conformance', version: '1' }, monthlyTokenBudget: 1_000_000 }])[0]!,
    },
  ];
}

/** Plugins a plan allows that the npm package set does not carry (stated by validate as "plugin not installed"). */
export const missingPlugins = (plan: Plan) => plan.plugins.filter((p) => PLUGINS_OUTSIDE_PACKAGE_SET.includes(p));

export const POSIX_USER = { uid: 200_001, gid: 200_001 };
export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:octw/tenants/conformance/gateway-token-AbCdEf';

/** The task definition the Gateway function renders for a plan (pure functions the workflow uses); `channels` default none. */
export function taskDefinitionFor(plan: Plan, tenantId = 'conformance', channels: readonly TenantChannel[] = []): TaskDefinitionShape {
  const region = 'us-east-1';
  // What the workflow would have made for the tenant: an application inference profile per Bedrock
  // model (Identity step) and, for every provider that takes a tenant key, a verified credential.
  const inferenceProfiles = Object.fromEntries(plan.bedrockModels.map((m, i) => [m, `arn:aws:bedrock:${region}:123456789012:application-inference-profile/conf${i}`]));
  const modelKeySecrets = plan.modelProviders
    .filter((p) => p.apiKey === 'tenant')
    .map((p) => ({ provider: p.id, secretArn: `arn:aws:secretsmanager:${region}:123456789012:secret:octw/tenants/local/${tenantId}/credentials/${p.id}-key-AbCdEf` }));
  const models = { inferenceProfiles, keyedProviders: modelKeySecrets.map((k) => k.provider) };
  return renderTaskDefinition({
    tenantId,
    cell: 'local',
    plan,
    region,
    fileSystemId: 'fs-0123456789abcdef0',
    accessPointId: 'fsap-0123456789abcdef0',
    posixUser: POSIX_USER,
    taskRoleArn: 'arn:aws:iam::123456789012:role/octw-tenant-conformance',
    executionRoleArn: 'arn:aws:iam::123456789012:role/octw-exec',
    secretArn: SECRET_ARN,
    logGroupName: '/octw/tenants/conformance',
    modelKeySecrets,
    openclawConfigJson: serializeOpenClawConfig(renderOpenClawConfig({ tenantId, plan, region, models, channels })),
    configHash: 'conformance',
    channels,
  });
}

/** Secrets for launchGateway: the gateway token and any model-provider key. */
export function secretsFor(td: { containerDefinitions?: { secrets?: { valueFrom?: string }[] }[] }, token: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of td.containerDefinitions ?? []) for (const s of c.secrets ?? []) if (s.valueFrom) out[s.valueFrom] = s.valueFrom === SECRET_ARN ? token : `sk-conformance-${'k'.repeat(32)}`;
  return out;
}

export const OPENCLAW = ['node', 'node_modules/openclaw/openclaw.mjs'];

const ValidateSchema = z.object({ valid: z.boolean(), warnings: z.array(z.object({ path: z.string(), message: z.string() }).loose()).default([]) }).loose();
export async function validate(gw: GatewayHandle) {
  const r = await gw.exec([...OPENCLAW, 'config', 'validate', '--json']);
  const json = r.stdout.slice(r.stdout.indexOf('{'));
  return { code: r.code, ...ValidateSchema.parse(JSON.parse(json)), raw: r };
}

export const FindingSchema = z.object({ checkId: z.string(), severity: z.enum(['info', 'warn', 'critical']), title: z.string() }).loose();
export async function audit(gw: GatewayHandle) {
  const r = await gw.exec([...OPENCLAW, 'security', 'audit', '--json'], { timeoutMs: 600_000 });
  const json = r.stdout.slice(r.stdout.indexOf('{'));
  return { code: r.code, findings: z.object({ findings: z.array(FindingSchema) }).loose().parse(JSON.parse(json)).findings, raw: r };
}

export const AcceptedSchema = z.object({
  release: z.string(),
  auditWarnings: z.array(z.object({ checkId: z.string(), reason: z.string().min(20) }).strict()),
  validateWarnings: z.array(z.object({ path: z.string(), message: z.string(), when: z.string(), reason: z.string().min(20) }).strict()),
  dnsQueries: z.array(z.object({ name: z.string(), reason: z.string().min(20) }).strict()),
}).loose();
export const accepted = () => AcceptedSchema.parse(JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'accepted-findings.json'), 'utf8')));

export { LOCAL_MODEL_STUB_PORT };

/** Appends a measured figure to conformance/.results/timings.jsonl (printed by conformance/run.sh). */
export function recordTiming(what: string, ms: number): void {
  const dir = join(CONFORMANCE_DIR, '.results');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'timings.jsonl'), `${JSON.stringify({ what, seconds: Math.round(ms / 100) / 10 })}\n`);
  console.log(`timing: ${what}: ${(ms / 1000).toFixed(1)} s`);
}
