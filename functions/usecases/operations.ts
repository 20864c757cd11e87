/**
 * Operator requests on an existing tenant (deprovision, suspend, resume, update): validate the
 * request, then claim the tenant for the workflow with one conditional transition. A refused claim
 * changes nothing: ValidationError (bad input), TenantNotFoundError, TenantStateConflictError.
 */
import type { CredentialVerifier } from '../adapters/tenant-credentials';
import { channelSpecs, isBuiltinChannel, validateChannels, type ChannelRequest, type TenantChannel } from '../domain/channels';
import { effectiveHostRuleIssues, effectiveHostRules } from '../domain/tenant-egress';
import { configHash } from '../domain/config-hash';
import { TenantStateConflictError, ValidationError } from '../domain/errors';
import { credentialReference, providerEndpoint, type ModelKeyRequest, type TenantModelKey } from '../domain/models';
import { refusal, type TransitionName } from '../domain/lifecycle';
import { TenantRequestSchema, UpdateRequestSchema } from '../domain/operations';
import type { Plan } from '../domain/tenant';
import type { PreviousConfig, TenantRecord } from '../domain/tenant-record';
import { applyTransition, type LifecycleDeps } from './lifecycle';
import { modelKeyIssues, parseRequest, requireIngress, tenantConfigHash, tenantOidcRef, validateTenantConfig, type SignupContext } from './signup';
import type { IngressOidcRequest, TenantOidcRef } from '../domain/ingress';

export const CLAIMS = {
  deprovision: 'startDeprovision',
  suspend: 'startSuspend',
  resume: 'startResume',
} as const satisfies Record<string, TransitionName>;
export type ClaimOperation = keyof typeof CLAIMS;

export interface OperationTicket {
  tenantId: string;
  status: string;
  version: number;
}

/** Claims the tenant named by `{tenantId}` for a deprovision, suspend or resume run. */
export async function claimForOperation(
  deps: LifecycleDeps,
  operation: ClaimOperation,
  raw: unknown,
  executionArn: string,
): Promise<OperationTicket> {
  const { tenantId } = parseRequest(TenantRequestSchema, raw, `${operation} refused`);
  const { record } = await applyTransition(deps, tenantId, CLAIMS[operation], { executionArn });
  return { tenantId, status: record.status, version: record.version };
}

/** What an update changes, so the workflow touches only what it must. */
export interface UpdateTicket extends OperationTicket {
  /** false: the request asks for the configuration the tenant already has; nothing was claimed or changed. */
  changed: boolean;
  allowlistChanged: boolean;
  /** The tenant's host allowlist (what the egress proxy enforces) differs: its policy item is written again. */
  hostPolicyChanged: boolean;
  /** The plan's Bedrock models differ: the role policy is put again. */
  modelsChanged: boolean;
  /** The channels differ (config, plugins, credential env vars and egress hosts follow them). */
  channelsChanged: boolean;
  /** Plan (CPU, memory, image, models), image override or channels differ: a new task-definition revision is rolled out. */
  taskDefinitionChanged: boolean;
  /** The tenant's OIDC provider differs: its route is put again in its current mode (Ingress `apply`). */
  ingressChanged: boolean;
  configHash: string;
}

export interface UpdateDeps extends LifecycleDeps {
  signup: SignupContext;
  /** Checks that a credential reference is the tenant's own secret (needed when channels carry credentials). */
  credentials?: CredentialVerifier;
}

/**
 * Validates an update as a signup is validated (the plan exists; the allowlist passes against the
 * VPC CIDRs within the plan's rule budget) and claims the ACTIVE tenant: UPDATING, with the new
 * configuration in the record and the one it replaces under `previous`. A request that changes
 * nothing (same config hash) is a successful no-op: nothing is claimed, written or emitted.
 */
export async function claimForUpdate(deps: UpdateDeps, raw: unknown, executionArn: string): Promise<UpdateTicket> {
  const request = parseRequest(UpdateRequestSchema, raw, 'update refused');
  for (let attempt = 1; ; attempt++) {
    const record = await deps.store.require(request.tenantId);
    if (record.status === 'UPDATING' && record.executionArn === executionArn && record.previous) {
      // This step is being retried after its claim was written.
      return ticket(record, record.previous, deps.signup.plans, true);
    }
    if (record.status !== 'ACTIVE') {
      throw new TenantStateConflictError(`tenant "${record.tenantId}": ${refusal('startUpdate', record.status)}`);
    }
    const target = {
      plan: request.plan ?? record.plan,
      egressAllowlist: request.egressAllowlist ?? record.egressAllowlist,
      imageOverride: request.image ?? record.imageOverride,
    };
    const { plan, hostAllowlist } = validateTenantConfig(
      // A new host allowlist is validated as input; the current one is checked against the (new) plan.
      { ...target, ...(request.hostAllowlist ? { hostAllowlist: request.hostAllowlist } : { storedHostAllowlist: record.hostAllowlist }) },
      deps.signup,
      'update refused',
    );
    const rotated = withGenerations(
      await targetChannels(deps, request.channels, record, plan),
      await targetModelKeys(deps, request.modelKeys, record, plan),
      request.credentialGenerations,
    );
    const { channels, modelKeys } = rotated;
    // Channel and provider hosts count against the plan's maxHostRules, as the tenant's own rules do.
    const hostIssues = effectiveHostRuleIssues(record, { hostAllowlist, channels, modelKeys }, plan, target.plan !== record.plan);
    if (hostIssues.length > 0) throw new ValidationError(`update refused: ${hostIssues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, hostIssues);
    const ingressOidc = await targetIngressOidc(deps, request.ingressOidc, record);
    const hash = tenantConfigHash({ ...target, hostAllowlist, channels, modelKeys }, plan);
    const previous: PreviousConfig = {
      plan: record.plan,
      egressAllowlist: record.egressAllowlist,
      hostAllowlist: record.hostAllowlist,
      ...(record.imageOverride ? { imageOverride: record.imageOverride } : {}),
      channels: record.channels ?? [],
      modelKeys: record.modelKeys ?? [],
      configHash: record.configHash,
      ...(record.resources.taskDefinitionArn ? { taskDefinitionArn: record.resources.taskDefinitionArn } : {}),
      // Only an update that changes the OIDC provider records what it was (null: none), so its restore puts it back.
      ...(ingressOidc.changed ? { ingressOidc: record.ingressOidc ?? null } : {}),
    };
    if (hash === record.configHash && !ingressOidc.changed) return ticket(record, previous, deps.signup.plans, false);
    try {
      const { record: claimed } = await applyTransition(deps, record.tenantId, 'startUpdate', {
        executionArn,
        // The target and `previous` come from this version: the claim must not land on a newer one.
        expectedVersion: record.version,
        patch: {
          plan: target.plan,
          egressAllowlist: target.egressAllowlist,
          hostAllowlist,
          imageOverride: target.imageOverride ?? null,
          channels,
          modelKeys,
          ...(ingressOidc.changed ? { ingressOidc: ingressOidc.value ?? null } : {}),
          configHash: hash,
          previous,
        },
        changes: [...channelChanges(record.channels ?? [], channels), ...rotated.changes, ...(ingressOidc.changed ? [`ingressOidc: ${ingressOidc.value ? `issuer ${ingressOidc.value.issuer}` : 'removed'}`] : [])],
      });
      return ticket(claimed, previous, deps.signup.plans, true);
    } catch (err) {
      // The record moved on between the read and the claim (another update finished): compute the
      // target again from the newer record, a bounded number of times; anything else is refused.
      if (!(err instanceof TenantStateConflictError) || attempt >= MAX_CLAIM_ATTEMPTS) throw err;
      const now = await deps.store.require(request.tenantId);
      if (now.status !== 'ACTIVE' || now.version === record.version) throw err;
    }
  }
}

/**
 * The tenant's channels after the update: the requested list (or, without one, the current list)
 * checked against the target plan, each credential reference verified as this tenant's own secret
 * and recorded by ARN. Sorted by type, so the same channels always hash alike.
 */
async function targetChannels(deps: UpdateDeps, requested: ChannelRequest[] | undefined, record: TenantRecord, plan: Plan): Promise<TenantChannel[]> {
  if (requested === undefined) {
    // A plan change must still allow every channel the tenant has (remove the channel first).
    const current = (record.channels ?? []).map((c) => ({ type: c.type, settings: c.settings, credentials: Object.fromEntries(Object.entries(c.credentials).map(([f, v]) => [f, v.secretArn])) }));
    validateChannels(current, plan, 'update refused');
    return record.channels ?? [];
  }
  const valid = validateChannels(requested, plan, 'update refused');
  const tenant = { cell: record.cell, tenantId: record.tenantId };
  const out: TenantChannel[] = [];
  for (const [i, c] of valid.entries()) {
    const credentials: TenantChannel['credentials'] = {};
    const before = record.channels?.find((r) => r.type === c.type);
    for (const field of Object.keys(c.credentials).sort()) {
      if (!deps.credentials) throw new Error('claimForUpdate: channels with credentials need a credential verifier');
      const secretArn = await deps.credentials.verify(c.credentials[field] as string, tenant, `channels[${i}].credentials.${field}`);
      // The same secret keeps its rotation counter (a channel list sent again changes nothing).
      const kept = before?.credentials[field];
      credentials[field] = { secretArn, ...(kept?.secretArn === secretArn && kept.generation !== undefined ? { generation: kept.generation } : {}) };
    }
    const preset = isBuiltinChannel(c.type) ? undefined : channelSpecs(plan).get(c.type)?.preset;
    out.push({ type: c.type, settings: c.settings, credentials, ...(preset ? { egressPreset: preset } : {}) });
  }
  return out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/**
 * The tenant's own provider keys after the update: the requested list (or, without one, the
 * current list) checked against the target plan (only providers that take a tenant key), each
 * credential reference verified as this tenant's own secret and recorded by ARN [models].
 */
async function targetModelKeys(deps: UpdateDeps, requested: ModelKeyRequest[] | undefined, record: TenantRecord, plan: Plan): Promise<TenantModelKey[]> {
  const keys = requested ?? (record.modelKeys ?? []).map((k) => ({ provider: k.provider, credential: k.secretArn }));
  const issues = modelKeyIssues(keys, plan);
  if (issues.length > 0) throw new ValidationError(`update refused: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  if (requested === undefined) {
    // The keys stay; each endpoint is the target plan's (a plan or catalogue baseUrl change moves
    // the provider: the egress policy must follow the config, or the gateway is refused).
    return (record.modelKeys ?? []).map((k) => ({ ...k, endpoint: providerEndpoint(plan.modelProviders.find((p) => p.id === k.provider)!.baseUrl) }));
  }
  const tenant = { cell: record.cell, tenantId: record.tenantId };
  const out: TenantModelKey[] = [];
  for (const [i, k] of requested.entries()) {
    if (!deps.credentials) throw new Error('claimForUpdate: model keys need a credential verifier');
    const secretArn = await deps.credentials.verify(credentialReference(tenant, k.credential), tenant, `modelKeys[${i}].credential`);
    const provider = plan.modelProviders.find((p) => p.id === k.provider)!;
    const kept = record.modelKeys?.find((r) => r.provider === k.provider && r.secretArn === secretArn);
    out.push({ provider: k.provider, secretArn, endpoint: providerEndpoint(provider.baseUrl), ...(kept?.generation !== undefined ? { generation: kept.generation } : {}) });
  }
  return out.sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0));
}

/**
 * Credential rotation: each credential `generations` names (`channels.<type>.<field>`,
 * `modelKeys.<provider>`) gets its new generation, which must be above its current one (absent: 0).
 * Only the counter moves (the caller put the new value in the secret); it is in the config hash, so
 * the update registers a new task revision whose tasks ECS gives the new value. Returns the audit
 * words `credentials: rotated channels.telegram.botToken (generation 2)`.
 */
export function withGenerations(
  channels: readonly TenantChannel[],
  modelKeys: readonly TenantModelKey[],
  generations: Readonly<Record<string, number>> | undefined,
): { channels: TenantChannel[]; modelKeys: TenantModelKey[]; changes: string[] } {
  const outChannels = channels.map((c) => ({ ...c, credentials: { ...c.credentials } }));
  const outKeys = modelKeys.map((k) => ({ ...k }));
  const issues: { path: string; message: string }[] = [];
  const rotated: string[] = [];
  for (const [key, generation] of Object.entries(generations ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const path = `credentialGenerations.${key}`;
    const [kind, name, field] = key.split('.') as [string, string, string | undefined];
    const target =
      kind === 'channels'
        ? (() => {
            const c = outChannels.find((x) => x.type === name);
            const cred = field !== undefined ? c?.credentials[field] : undefined;
            return c && cred && field !== undefined ? { current: cred.generation ?? 0, set: (g: number) => (c.credentials[field] = { ...cred, generation: g }) } : undefined;
          })()
        : (() => {
            const k = outKeys.find((x) => x.provider === name);
            return k ? { current: k.generation ?? 0, set: (g: number) => (k.generation = g) } : undefined;
          })();
    if (!target) {
      issues.push({ path, message: `the tenant has no credential ${key} after this update` });
      continue;
    }
    if (generation <= target.current) {
      issues.push({ path, message: `generation ${generation} is not above the credential's current generation ${target.current}` });
      continue;
    }
    target.set(generation);
    rotated.push(`${key} (generation ${generation})`);
  }
  if (issues.length > 0) throw new ValidationError(`update refused: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  return { channels: outChannels, modelKeys: outKeys, changes: rotated.length > 0 ? [`credentials: rotated ${rotated.join(', ')}`] : [] };
}

/** A channel without its credentials' rotation counters (a rotation is audited as such, not as a channel change). */
const channelShape = (c: TenantChannel) => ({ ...c, credentials: Object.fromEntries(Object.entries(c.credentials).map(([f, v]) => [f, v.secretArn])) });

/**
 * The tenant's OIDC provider after the update: unchanged without `ingressOidc` in the request; `null`
 * removes it; otherwise its settings with the client-secret reference verified as the tenant's own
 * credential (DescribeSecret: name prefix and tags, never the value) and recorded by full name.
 * Refused where the cell has no ingress.
 */
async function targetIngressOidc(
  deps: UpdateDeps,
  requested: IngressOidcRequest | null | undefined,
  record: TenantRecord,
): Promise<{ changed: boolean; value: TenantOidcRef | undefined }> {
  if (requested === undefined) return { changed: false, value: record.ingressOidc };
  let value: TenantOidcRef | undefined;
  if (requested === null) {
    requireIngress(deps.signup, 'update refused');
  } else {
    value = tenantOidcRef(requested, record.tenantId, deps.signup, 'update refused');
    if (!deps.credentials) throw new Error('claimForUpdate: an OIDC provider needs a credential verifier');
    await deps.credentials.verify(value.clientSecretName, { cell: record.cell, tenantId: record.tenantId }, 'ingressOidc.clientSecret');
  }
  return { changed: configHash(value ?? null) !== configHash(record.ingressOidc ?? null), value };
}

/** The audit item's words for a channel change: `channels: +telegram`, `-slack`, `~discord`. */
export function channelChanges(before: readonly TenantChannel[], after: readonly TenantChannel[]): string[] {
  const b = new Map(before.map((c) => [c.type, configHash(channelShape(c))]));
  const a = new Map(after.map((c) => [c.type, configHash(channelShape(c))]));
  const words = [
    ...[...a.keys()].filter((t) => !b.has(t)).map((t) => `+${t}`),
    ...[...b.keys()].filter((t) => !a.has(t)).map((t) => `-${t}`),
    ...[...a.keys()].filter((t) => b.has(t) && b.get(t) !== a.get(t)).map((t) => `~${t}`),
  ];
  return words.length > 0 ? [`channels: ${words.join(' ')}`] : [];
}

/** How often an update claim is computed again after the record changed under it. */
export const MAX_CLAIM_ATTEMPTS = 3;

function ticket(record: TenantRecord, previous: PreviousConfig, plans: readonly Plan[], changed: boolean): UpdateTicket {
  const before = plans.find((p) => p.id === previous.plan);
  const after = plans.find((p) => p.id === record.plan);
  const same = (a: unknown, b: unknown) => configHash(a ?? null) === configHash(b ?? null);
  const channelsChanged = changed && previous.channels !== undefined && !same(previous.channels, record.channels ?? []);
  return {
    tenantId: record.tenantId,
    status: record.status,
    version: record.version,
    changed,
    allowlistChanged: changed && !same(previous.egressAllowlist, record.egressAllowlist),
    // What the proxy enforces: the tenant's own rules and its channels' hosts (contract 1).
    hostPolicyChanged:
      changed &&
      !same(
        effectiveHostRules({ hostAllowlist: previous.hostAllowlist, channels: previous.channels ?? record.channels, modelKeys: previous.modelKeys ?? record.modelKeys }),
        effectiveHostRules({ hostAllowlist: record.hostAllowlist, channels: record.channels, modelKeys: record.modelKeys }),
      ),
    modelsChanged:
      changed &&
      (!before || !after || !same([before.bedrockModels, before.bedrockGuardrail], [after.bedrockModels, after.bedrockGuardrail])),
    channelsChanged,
    ingressChanged: changed && previous.ingressOidc !== undefined && !same(previous.ingressOidc, record.ingressOidc ?? null),
    taskDefinitionChanged: changed && (!before || !after || !same(before, after) || previous.imageOverride !== record.imageOverride || channelsChanged || !same(previous.modelKeys ?? [], record.modelKeys ?? [])),
    configHash: record.configHash,
  };
}
