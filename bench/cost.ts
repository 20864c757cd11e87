/**
 * Cost per tenant (issue 14.4): what each lifecycle operation costs at public prices (bench/prices.ts),
 * from what the run recorded (state transitions, Lambda invocations and their GB-seconds, every AWS
 * call attempt), and the platform's monthly overhead per tenant at a given fleet size, excluding the
 * tenant's own Fargate task.
 */
import { HANDLERS, type HandlerKey } from '../functions/handlers/catalogue';
import { signupFor } from '../test/local-cloud/samples';
import { startBenchCloud, type CallRecord } from './harness';
import { DYNAMODB_FLOOR_MS } from './model';
import { HOURS_PER_MONTH, PRICES } from './prices';

export interface OperationCost {
  readonly operation: string;
  readonly status: string;
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** Billed duration × memory, in model (AWS) time; DynamoDB Local's real time replaced by its model latency. */
  readonly lambdaGbSeconds: number;
  readonly awsCalls: number;
  readonly callsByService: Record<string, number>;
  readonly dollars: { stepFunctions: number; lambda: number; dynamoDb: number; eventBridge: number; secretsManager: number; total: number };
}

const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'Put', 'Update', 'Delete', 'TransactWrite', 'TransactWriteItems', 'BatchWrite', 'BatchWriteItem']);

/** Figures of one execution (plus the Intake invocation that started it, for provisioning). */
export function costOf(operation: string, status: string, calls: readonly CallRecord[], stateTransitions: number, taskInvocations: number, scale: number): OperationCost {
  const byInvocation = new Map<string, CallRecord[]>();
  for (const c of calls) if (c.invocationId) byInvocation.set(c.invocationId, [...(byInvocation.get(c.invocationId) ?? []), c]);
  let gbSeconds = 0;
  for (const list of byInvocation.values()) {
    const start = Math.min(...list.map((c) => c.start));
    const end = Math.max(...list.map((c) => c.end));
    const ddbReal = list.filter((c) => c.service === 'DynamoDB').reduce((s, c) => s + (c.end - c.start), 0);
    const ddbCount = list.filter((c) => c.service === 'DynamoDB').length;
    const modelMs = Math.max(1, (end - start - ddbReal) / scale + ddbCount * DYNAMODB_FLOOR_MS);
    const memoryGb = (HANDLERS[list[0]!.handler as HandlerKey]?.memoryMiB ?? 512) / 1024;
    gbSeconds += (Math.ceil(modelMs) / 1000) * memoryGb;
  }
  const invocations = taskInvocations + new Set(calls.filter((c) => c.handler === 'Intake').map((c) => c.invocationId)).size;
  const callsByService: Record<string, number> = {};
  for (const c of calls) callsByService[c.service] = (callsByService[c.service] ?? 0) + 1;
  const ddb = calls.filter((c) => c.service === 'DynamoDB' && c.ok);
  // A transactional item costs 2 units; the bench does not see item counts, so a transaction counts 2 items (the platform's usual size).
  const ddbDollars = ddb.reduce((s, c) => s + (WRITE_OPS.has(c.operation) ? (c.operation.startsWith('Transact') ? 4 : 1) * PRICES.ddbWriteUnit : PRICES.ddbReadUnit), 0);
  const dollars = {
    stepFunctions: stateTransitions * PRICES.sfnTransition,
    lambda: invocations * PRICES.lambdaRequest + gbSeconds * PRICES.lambdaGbSecondArm,
    dynamoDb: ddbDollars,
    eventBridge: calls.filter((c) => c.service === 'EventBridge' && c.operation === 'PutEvents' && c.ok).length * PRICES.eventBridgeEvent,
    secretsManager: calls.filter((c) => c.service === 'SecretsManager').length * PRICES.secretsManagerCall,
    total: 0,
  };
  dollars.total = dollars.stepFunctions + dollars.lambda + dollars.dynamoDb + dollars.eventBridge + dollars.secretsManager;
  return { operation, status, stateTransitions, lambdaInvocations: invocations, lambdaGbSeconds: gbSeconds, awsCalls: calls.length, callsByService, dollars };
}

/** One tenant through provision, suspend, resume and deprovision, each costed. */
export async function runLifecycleCosts(scale: number, tenantId = 'bench-cost'): Promise<OperationCost[]> {
  const bench = await startBenchCloud({ scale });
  try {
    const { cloud, recorder } = bench;
    const out: OperationCost[] = [];
    await cloud.signup(signupFor(tenantId));
    await cloud.settle();
    const provision = cloud.sfn.list().find((e) => e.name.includes(tenantId));
    if (!provision) throw new Error('no provision execution');
    const provisionCalls = recorder.calls.filter((c) => c.handler === 'Intake' || c.executionName === provision.name);
    out.push(costOf('Provision', (await cloud.tenant(tenantId))?.status ?? 'missing', provisionCalls, provision.counters.stateTransitions, provision.counters.taskInvocations, scale));
    for (const machine of ['SuspendTenant', 'ResumeTenant', 'DeprovisionTenant'] as const) {
      const { executionArn } = await cloud.sfn.startExecution(machine, { tenantId }, `${machine}-${tenantId}`);
      await cloud.settle();
      const execution = cloud.sfn.list().find((e) => e.executionArn === executionArn);
      if (!execution) throw new Error(`no ${machine} execution`);
      const calls = recorder.calls.filter((c) => c.executionName === execution.name);
      out.push(costOf(machine.replace('Tenant', ''), (await cloud.tenant(tenantId))?.status ?? 'missing', calls, execution.counters.stateTransitions, execution.counters.taskInvocations, scale));
    }
    return out;
  } finally {
    await bench.stop();
  }
}

export interface OverheadAssumptions {
  readonly tenants: number;
  readonly azs: number;
  readonly interfaceEndpoints: number;
  readonly natGateways: number;
  /** Secrets per tenant: the platform's (gateway token, proxy URL) and the tenant's credentials (channels, model keys). */
  readonly platformSecrets: number;
  readonly credentialSecrets: number;
  /** Gateway logs per tenant and month (the tenant's task logs to the platform's log group per tenant). */
  readonly logGbPerTenant: number;
  readonly logRetentionMonths: number;
  /** Egress through the proxy and NAT, per tenant and month. */
  readonly egressGbPerTenant: number;
  readonly egressProxyTasks: number;
  readonly egressProxyVcpu: number;
  readonly egressProxyGb: number;
  /** Ingress: one ALB per `rulesPerShard` tenants (off in cdk.json by default). */
  readonly ingress: boolean;
  readonly rulesPerShard: number;
  /** Hourly usage and budget checks. */
  readonly checksPerMonth: number;
}

export const DEFAULT_OVERHEAD: OverheadAssumptions = {
  tenants: 1000,
  azs: 3,
  interfaceEndpoints: 8,
  natGateways: 3,
  platformSecrets: 2,
  credentialSecrets: 2,
  logGbPerTenant: 0.1,
  logRetentionMonths: 1,
  egressGbPerTenant: 1,
  egressProxyTasks: 2,
  egressProxyVcpu: 1,
  egressProxyGb: 2,
  ingress: true,
  rulesPerShard: 100,
  checksPerMonth: HOURS_PER_MONTH,
};

/**
 * Ways of storing a tenant's secret values. SSM's standard tier is free but holds 10,000 parameters
 * per account and Region, shared by every cell there; the advanced tier holds 100,000 at $0.05 a
 * parameter-month. ECS injects either (task definition `secrets[].valueFrom` = the parameter ARN).
 */
export type SecretsLayout = 'secret-per-value' | 'one-json-secret' | 'ssm-securestring' | 'ssm-securestring-advanced';
export const SECRETS_LAYOUTS: readonly SecretsLayout[] = ['secret-per-value', 'one-json-secret', 'ssm-securestring', 'ssm-securestring-advanced'];

export interface OverheadLine {
  readonly item: string;
  readonly perTenant: number;
  readonly basis: string;
}

/** Monthly platform overhead per tenant, excluding the tenant's own Fargate task. */
export function monthlyOverhead(a: OverheadAssumptions, secrets: SecretsLayout, opsPerTenantMonth: number): OverheadLine[] {
  const n = a.tenants;
  const values = a.platformSecrets + a.credentialSecrets;
  const secretLine: OverheadLine =
    secrets === 'secret-per-value'
      ? { item: 'Secrets Manager', perTenant: values * PRICES.secretMonth, basis: `${values} secrets × $${PRICES.secretMonth}` }
      : secrets === 'one-json-secret'
        ? { item: 'Secrets Manager', perTenant: PRICES.secretMonth, basis: `1 JSON secret (${values} keys, injected by key) × $${PRICES.secretMonth}` }
        : secrets === 'ssm-securestring'
          ? {
              item: 'SSM SecureString',
              perTenant: values * PRICES.ssmStandardParameterMonth + values * 2 * PRICES.kmsRequest * 30,
              basis: `${values} standard parameters (free) + KMS decrypts at ~30 task starts (10,000 standard parameters per account and Region: ${Math.floor(10_000 / values)} tenants in all cells)`,
            }
          : {
              item: 'SSM SecureString',
              perTenant: values * PRICES.ssmAdvancedParameterMonth + values * 2 * PRICES.kmsRequest * 30,
              basis: `${values} advanced parameters × $${PRICES.ssmAdvancedParameterMonth} + KMS decrypts (100,000 per account and Region: ${Math.floor(100_000 / values)} tenants)`,
            };
  const endpoints = a.interfaceEndpoints * a.azs * PRICES.interfaceEndpointAzHour * HOURS_PER_MONTH;
  const nat = a.natGateways * PRICES.natGatewayHour * HOURS_PER_MONTH;
  const proxy = a.egressProxyTasks * (a.egressProxyVcpu * PRICES.fargateVcpuHourX86 + a.egressProxyGb * PRICES.fargateGbHourX86) * HOURS_PER_MONTH + (PRICES.nlbHour + PRICES.nlbNlcuHour) * HOURS_PER_MONTH;
  const albs = Math.ceil(n / a.rulesPerShard);
  const ingress = a.ingress ? albs * (PRICES.albHour + PRICES.albLcuHour) * HOURS_PER_MONTH : 0;
  return [
    secretLine,
    { item: 'Logs (gateway log group)', perTenant: a.logGbPerTenant * (PRICES.logsIngestGb + PRICES.logsStoreGbMonth * a.logRetentionMonths), basis: `${a.logGbPerTenant} GB ingested, kept ${a.logRetentionMonths} month` },
    { item: 'CloudWatch metric TenantEfsBytes', perTenant: PRICES.customMetricMonth, basis: 'one custom metric per tenant (Usage, dimension TenantId)' },
    { item: 'Budget checks (GetMetricData)', perTenant: a.checksPerMonth * 2 * PRICES.getMetricDataMetric, basis: `${a.checksPerMonth} hourly checks × 2 metrics` },
    { item: 'DynamoDB (record, audit, checks)', perTenant: 0.00005 * PRICES.ddbGbMonth + a.checksPerMonth * 2 * PRICES.ddbReadUnit, basis: '~50 KB stored, 2 reads per hourly check' },
    { item: 'Lifecycle operations', perTenant: opsPerTenantMonth, basis: 'one suspend + one resume a month (measured above)' },
    { item: 'Egress proxy share', perTenant: proxy / n, basis: `${a.egressProxyTasks} Squid tasks (${a.egressProxyVcpu} vCPU, ${a.egressProxyGb} GB, x86) + NLB, / ${n}` },
    { item: 'Ingress share', perTenant: ingress / n, basis: a.ingress ? `${albs} ALB shards (${a.rulesPerShard} rules each) + 1 LCU each, / ${n}` : 'ingress off' },
    { item: 'Interface endpoints share', perTenant: endpoints / n, basis: `${a.interfaceEndpoints} endpoints × ${a.azs} AZs, / ${n}` },
    { item: 'NAT share', perTenant: nat / n + a.egressGbPerTenant * PRICES.natGatewayGb, basis: `${a.natGateways} NAT gateways / ${n} + ${a.egressGbPerTenant} GB processed` },
  ];
}
