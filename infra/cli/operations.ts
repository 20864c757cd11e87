/**
 * `octw tenants provision|deprovision|suspend|resume|update|purge`: validate locally, check the
 * tenant's status, start the state machine under its deterministic execution name, and with
 * --wait follow the execution to its end.
 */
import type { IngressOidcRequest } from '../../functions/domain/ingress';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { TenantStore } from '../../functions/adapters/tenant-store';
import type { ChannelRequestInput } from '../../functions/domain/channels';
import { TRANSITIONS, type TransitionName } from '../../functions/domain/lifecycle';
import {
  OPERATIONS,
  PurgeRequestSchema,
  ReprovisionRequestSchema,
  TenantRequestSchema,
  UpdateRequestSchema,
  operationExecutionName,
  type Operation,
} from '../../functions/domain/operations';
import { EgressRuleSchema, SignupRequestSchema, type TenantStatus } from '../../functions/domain/tenant';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import { canonicalInput, provisionExecutionName } from '../../functions/usecases/intake';
import { awsCodeOf, AwsCallError, RefusedError, UsageError, WorkflowFailedError } from './errors';
import type { CommandContext } from './context';
import { seconds, truncate } from './format';
import { parseTenantId, readJsonFile, validate } from './inputs';

export const OPERATION_NAMES = Object.keys(OPERATIONS) as Operation[];

export interface OperationArgs {
  readonly operation: Operation;
  readonly id: string | undefined;
  readonly file?: string | undefined;
  readonly plan?: string | undefined;
  readonly allowlistFile?: string | undefined;
  /** `--host-allow HOST:PORT[,PORT...]` (repeatable): the new host allowlist, with `--preset` (replaces the tenant's list). */
  readonly hostAllow?: readonly string[] | undefined;
  /** `--preset NAME` (repeatable). */
  readonly presets?: readonly string[] | undefined;
  /** `--clear-hosts`: the new host allowlist is empty. */
  readonly clearHosts?: boolean | undefined;
  readonly image?: string | undefined;
  readonly immediate?: boolean | undefined;
  /** update: the tenant's whole channel list after the update (credentials by secret reference). */
  readonly channels?: readonly ChannelRequestInput[] | undefined;
  /** update: the tenant's own provider keys (references to its credential secrets), from `octw tenants models`. */
  readonly modelKeys?: readonly { provider: string; credential: string }[] | undefined;
  /** update: credential rotation, the new generation of each rotated credential (its value already put in its secret). */
  readonly credentialGenerations?: Readonly<Record<string, number>> | undefined;
  /** The tenant's OIDC provider (`null` removes it); the client secret by reference. */
  readonly ingressOidc?: IngressOidcRequest | null | undefined;
  readonly wait: boolean;
  readonly pollIntervalMs: number;
}

/** The claim each workflow makes, and the status it holds the tenant in while it runs. */
const CLAIMS: Record<Exclude<Operation, 'provision' | 'reprovision'>, { transition: TransitionName; holding?: TenantStatus }> = {
  deprovision: { transition: 'startDeprovision', holding: 'DEPROVISIONING' },
  suspend: { transition: 'startSuspend', holding: 'SUSPENDING' },
  resume: { transition: 'startResume', holding: 'RESUMING' },
  update: { transition: 'startUpdate', holding: 'UPDATING' },
  purge: { transition: 'purged' },
};

/** Statuses in which a provision request goes to the (possibly already running) provision workflow. */
const PROVISIONABLE: readonly TenantStatus[] = ['REQUESTED', 'PROVISIONING', 'FAILED'];

const AllowlistFileSchema = z.union([
  z.array(EgressRuleSchema).max(50, { error: 'at most 50 rules' }),
  z.object({ egressAllowlist: z.array(EgressRuleSchema).max(50, { error: 'at most 50 rules' }) }).strict().transform((o) => o.egressAllowlist),
]);

/**
 * The host allowlist of `--preset`/`--host-allow`/`--clear-hosts`, or undefined when none is given.
 * `--host-allow api.example.com:443` or `api.example.com:80,443`; the platform checks the rest.
 */
export function hostAllowlistOf(args: Pick<OperationArgs, 'hostAllow' | 'presets' | 'clearHosts'>): ({ host: string; ports: number[] } | { preset: string })[] | undefined {
  const hosts = args.hostAllow ?? [];
  const presets = args.presets ?? [];
  if (args.clearHosts) {
    if (hosts.length || presets.length) throw new UsageError('--clear-hosts cannot be combined with --host-allow or --preset');
    return [];
  }
  if (!hosts.length && !presets.length) return undefined;
  const entries = hosts.map((spec) => {
    const m = /^([^:\s]+):(\d{1,5}(?:,\d{1,5})*)$/.exec(spec);
    if (!m) throw new UsageError(`--host-allow "${spec}" must be HOST:PORT or HOST:PORT,PORT (e.g. api.telegram.org:443)`);
    return { host: m[1]!, ports: m[2]!.split(',').map(Number) };
  });
  return [...presets.map((preset) => ({ preset })), ...entries];
}

export interface StartResult {
  operation: Operation;
  tenantId: string;
  stateMachineArn: string;
  executionName: string;
  executionArn: string;
  alreadyStarted: boolean;
}

export interface ExecutionEnd {
  status: string;
  startDate?: string;
  stopDate?: string;
  durationMs?: number;
  error?: string;
  cause?: string;
  output?: unknown;
}

export async function runOperation(ctx: CommandContext, args: OperationArgs): Promise<void> {
  const { tenantId, input } = await buildRequest(ctx, args);
  // Configuration first: a missing setting is a usage error before any AWS call.
  const tableName = ctx.config.tableName();
  const stateMachineArn = await ctx.config.stateMachineArn(OPERATIONS[args.operation], () => ctx.clients.region());
  const record = await new TenantStore(ctx.clients.doc, tableName).get(tenantId);
  const plan = planExecution(args.operation, tenantId, record, stateMachineArn, {
    immediate: args.immediate === true,
    now: (ctx.io.now ?? Date.now)(),
  });

  const started: StartResult =
    plan.kind === 'running'
      ? { operation: args.operation, tenantId, stateMachineArn, executionName: plan.name, executionArn: plan.executionArn, alreadyStarted: true }
      : { operation: args.operation, tenantId, stateMachineArn, executionName: plan.name, ...(await start(ctx, stateMachineArn, plan.name, input)) };

  if (!ctx.json) {
    ctx.note(
      started.alreadyStarted
        ? `${args.operation} of ${tenantId}: already started (${started.executionName})`
        : `${args.operation} of ${tenantId}: started ${OPERATIONS[args.operation]} as ${started.executionName}`,
    );
    ctx.print(`${started.executionArn}\n`);
  }
  if (!args.wait) {
    if (ctx.json) ctx.emit(started);
    return;
  }
  const end = await follow(ctx, started.executionArn, args.pollIntervalMs);
  if (ctx.json) ctx.emit({ ...started, ...end });
  else ctx.print(`${end.status}${end.durationMs !== undefined ? ` in ${seconds(end.durationMs)}` : ''}\n`);
  if (end.status !== 'SUCCEEDED') {
    throw new WorkflowFailedError(
      `${OPERATIONS[args.operation]} ${started.executionName} ended ${end.status}` +
        (end.error !== undefined ? `: ${end.error}` : '') +
        (end.cause !== undefined ? ` (${truncate(readableCause(end.cause), 500)})` : ''),
    );
  }
}

/** Validates the operator's input with the platform's schemas; returns the execution input. */
async function buildRequest(ctx: CommandContext, args: OperationArgs): Promise<{ tenantId: string; input: unknown }> {
  const cwd = ctx.io.cwd ?? process.cwd();
  switch (args.operation) {
    case 'provision': {
      if (args.id !== undefined) throw new UsageError('tenants provision takes no ID: the tenant id is in the --file signup');
      const signup = validate(SignupRequestSchema, await readJsonFile(args.file, '--file', cwd), `signup ${args.file ?? ''}`.trim());
      return { tenantId: signup.tenantId, input: canonicalInput(signup) };
    }
    case 'update': {
      const tenantId = parseTenantId(args.id);
      const egressAllowlist =
        args.allowlistFile !== undefined
          ? validate(AllowlistFileSchema, await readJsonFile(args.allowlistFile, '--allowlist-file', cwd), `--allowlist-file ${args.allowlistFile}`)
          : undefined;
      const hostAllowlist = hostAllowlistOf(args);
      const request = validate(
        UpdateRequestSchema,
        {
          tenantId,
          ...(args.plan !== undefined ? { plan: args.plan } : {}),
          ...(egressAllowlist !== undefined ? { egressAllowlist } : {}),
          ...(hostAllowlist !== undefined ? { hostAllowlist } : {}),
          ...(args.image !== undefined ? { image: args.image } : {}),
          ...(args.channels !== undefined ? { channels: args.channels } : {}),
          ...(args.modelKeys !== undefined ? { modelKeys: args.modelKeys } : {}),
          ...(args.credentialGenerations !== undefined ? { credentialGenerations: args.credentialGenerations } : {}),
          ...(args.ingressOidc !== undefined ? { ingressOidc: args.ingressOidc } : {}),
        },
        'update request',
      );
      return { tenantId, input: request };
    }
    case 'purge': {
      const tenantId = parseTenantId(args.id);
      return { tenantId, input: validate(PurgeRequestSchema, { tenantId, immediate: args.immediate === true }, 'purge request') };
    }
    case 'reprovision': {
      const tenantId = parseTenantId(args.id);
      return { tenantId, input: validate(ReprovisionRequestSchema, { tenantId, reprovision: true }, 'reprovision request') };
    }
    default: {
      const tenantId = parseTenantId(args.id);
      return { tenantId, input: validate(TenantRequestSchema, { tenantId }, `${args.operation} request`) };
    }
  }
}


type ExecutionPlan = { kind: 'start'; name: string } | { kind: 'running'; name: string; executionArn: string };

/**
 * The deterministic execution name, or a refusal (exit 3) when the tenant's status does not allow
 * the operation. A tenant already held by this operation's workflow is reported as already started.
 */
export function planExecution(
  operation: Operation,
  tenantId: string,
  record: TenantRecord | undefined,
  stateMachineArn: string,
  purge: { immediate: boolean; now: number } = { immediate: false, now: Date.now() },
): ExecutionPlan {
  if (operation === 'provision') {
    if (record === undefined) return { kind: 'start', name: provisionExecutionName(tenantId, 1) };
    if (!PROVISIONABLE.includes(record.status)) {
      throw new RefusedError(
        'TenantStateConflictError',
        `tenant "${tenantId}" already exists (${record.status}); change it with "octw tenants update", or deprovision it first`,
      );
    }
    const generation = record.status === 'FAILED' ? record.generation + 1 : record.generation;
    return { kind: 'start', name: provisionExecutionName(tenantId, generation) };
  }
  if (operation === 'reprovision') {
    if (record === undefined) throw new RefusedError('TenantNotFoundError', `tenant "${tenantId}" does not exist`);
    const executionPrefix = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
    const running = provisionExecutionName(tenantId, record.generation);
    if ((record.status === 'REQUESTED' || record.status === 'PROVISIONING') && record.executionArn === `${executionPrefix}${running}`) {
      return { kind: 'running', name: running, executionArn: record.executionArn };
    }
    if (record.status !== 'FAILED') {
      throw new RefusedError(
        'TenantStateConflictError',
        `refusing to reprovision tenant "${tenantId}": it is ${record.status}; only a FAILED tenant can be re-provisioned`,
      );
    }
    return { kind: 'start', name: provisionExecutionName(tenantId, record.generation + 1) };
  }
  if (record === undefined) throw new RefusedError('TenantNotFoundError', `tenant "${tenantId}" does not exist`);
  const claim = CLAIMS[operation];
  const executionPrefix = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
  if (claim.holding === record.status && record.executionArn?.startsWith(executionPrefix)) {
    return { kind: 'running', name: record.executionArn.slice(executionPrefix.length), executionArn: record.executionArn };
  }
  const rule = TRANSITIONS[claim.transition];
  if (!(rule.from as readonly TenantStatus[]).includes(record.status)) {
    throw new RefusedError(
      'TenantStateConflictError',
      `refusing to ${operation} tenant "${tenantId}": it is ${record.status}; ${operation} is allowed from ${rule.from.join(' | ')}`,
    );
  }
  if (operation === 'purge' && !purge.immediate && !retentionEnded(record, purge.now)) {
    // The same rule as the purge handler's: no retention date or a date in the future keeps the data.
    throw new RefusedError(
      'TenantStateConflictError',
      `refusing to purge tenant "${tenantId}": its data is retained until ${record.dataRetainedUntil ?? '(unknown)'}; ` +
        'give --immediate to erase it now (right to erasure)',
    );
  }
  return { kind: 'start', name: operationExecutionName(operation, tenantId, record.version) };
}

function retentionEnded(record: TenantRecord, now: number): boolean {
  const until = record.dataRetainedUntil === undefined ? Number.NaN : Date.parse(record.dataRetainedUntil);
  return Number.isFinite(until) && until <= now;
}

async function start(
  ctx: CommandContext,
  stateMachineArn: string,
  name: string,
  input: unknown,
): Promise<{ executionArn: string; alreadyStarted: boolean }> {
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  try {
    const out = await ctx.clients.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return { executionArn: out.executionArn ?? executionArn, alreadyStarted: false };
  } catch (err) {
    const code = awsCodeOf(err);
    // Execution names are unique for 90 days: the same request was started before.
    if (code === 'ExecutionAlreadyExists') return { executionArn, alreadyStarted: true };
    const hint = code === 'StateMachineDoesNotExist' || code === 'InvalidArn' ? ' (check OCTW_STATE_MACHINE_ARN_PREFIX / --cell, --account, --region)' : '';
    throw new AwsCallError(code ?? 'StartExecutionError', `StartExecution ${stateMachineArn}: ${err instanceof Error ? err.message : String(err)}${hint}`, {
      cause: err,
    });
  }
}

/** Polls DescribeExecution (and the history for the current step) until the execution ends. */
export async function follow(ctx: CommandContext, executionArn: string, pollIntervalMs: number): Promise<ExecutionEnd> {
  const sleep = ctx.io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = ctx.io.now ?? Date.now;
  const began = now();
  let last = '';
  let unseen = 0;
  for (;;) {
    let d;
    try {
      d = await sfnCall('DescribeExecution', () => ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn })));
    } catch (err) {
      // Step Functions is eventually consistent: a just-started execution may not be visible yet.
      if (!(err instanceof AwsCallError && err.name === 'ExecutionDoesNotExist') || ++unseen > 5) throw err;
      await sleep(Math.max(pollIntervalMs, 200));
      continue;
    }
    const status = d.status ?? 'UNKNOWN';
    const step = status === 'RUNNING' ? await currentStep(ctx, executionArn) : undefined;
    const elapsed = d.startDate ? now() - d.startDate.getTime() : now() - began;
    const line = `${status} ${step ?? ''}`;
    if (line !== last) {
      ctx.note(`[${seconds(Math.max(0, elapsed)).padStart(7)}] ${status.padEnd(9)} ${step ?? ''}`.trimEnd());
      last = line;
    }
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      return {
        status,
        ...(d.startDate ? { startDate: d.startDate.toISOString() } : {}),
        ...(d.stopDate ? { stopDate: d.stopDate.toISOString() } : {}),
        ...(d.startDate && d.stopDate ? { durationMs: d.stopDate.getTime() - d.startDate.getTime() } : {}),
        ...(d.error !== undefined ? { error: d.error } : {}),
        ...(d.cause !== undefined ? { cause: d.cause } : {}),
        ...(d.output !== undefined ? { output: parseJson(d.output) } : {}),
      };
    }
    await sleep(pollIntervalMs);
  }
}

async function currentStep(ctx: CommandContext, executionArn: string): Promise<string | undefined> {
  const h = await sfnCall('GetExecutionHistory', () =>
    ctx.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 50 })),
  );
  return h.events?.find((e) => e.stateEnteredEventDetails?.name !== undefined)?.stateEnteredEventDetails?.name;
}

async function sfnCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new AwsCallError(awsCodeOf(err) ?? `${what}Error`, `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** A Lambda error cause is JSON ({errorType, errorMessage, ...}); show its message. */
export function readableCause(cause: string): string {
  const parsed = parseJson(cause);
  if (typeof parsed === 'object' && parsed !== null && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string') {
    const type = 'errorType' in parsed && typeof parsed.errorType === 'string' ? `${parsed.errorType}: ` : '';
    return `${type}${parsed.errorMessage}`;
  }
  return cause;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
