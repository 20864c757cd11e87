/**
 * `octw fleet rollout|rollouts` (issue 13.1): start a rollout of an image digest and/or plan over
 * the cell's tenants (canary, then waves; RolloutFleet), follow it (--wait), list and show
 * rollouts, and pause, resume or abort one (the control flag on its record, read between waves).
 */
import { randomBytes } from 'node:crypto';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { RolloutStore } from '../../functions/adapters/rollout-store';
import { DIGEST_IMAGE, FINISHED_ROLLOUT_STATES, newRolloutId, RolloutIdSchema, rolloutImageIssues, type RolloutMeta, type RolloutTenant } from '../../functions/domain/rollout';
import type { CommandContext } from './context';
import { UsageError, WorkflowFailedError } from './errors';
import { keyValues, table, truncate } from './format';

export interface FleetRolloutArgs {
  /** undefined: start a rollout; else show | pause | resume | abort. */
  readonly verb: string | undefined;
  readonly id: string | undefined;
  readonly image?: string | undefined;
  readonly plan?: string | undefined;
  readonly canary?: string | undefined;
  readonly wave?: string | undefined;
  readonly maxFailurePercent?: string | undefined;
  readonly maxConcurrency?: string | undefined;
  /** Comma-separated tenant ids (default: every ACTIVE and SUSPENDED tenant). */
  readonly tenants?: string | undefined;
  readonly cell?: string | undefined;
  readonly wait: boolean;
  readonly pollIntervalMs: number;
}

const VERBS = ['show', 'pause', 'resume', 'abort'] as const;
const FINISHED = new Set<string>(FINISHED_ROLLOUT_STATES);

function integer(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} "${value}" must be a whole number from ${min} to ${max}`);
  return n;
}

/** The cell whose rollouts to list: --cell / OCTW_CELL, else from a table named octw-<cell>-tenants. */
function cellOf(ctx: CommandContext, flag: string | undefined): string {
  const cell = flag ?? ctx.io.env.OCTW_CELL;
  if (cell) return cell;
  const m = /^octw-([a-z][a-z0-9-]*[a-z0-9])-tenants$/.exec(ctx.config.tableName());
  if (m?.[1]) return m[1];
  throw new UsageError('cannot tell the cell: give --cell or OCTW_CELL');
}

function store(ctx: CommandContext): RolloutStore {
  return new RolloutStore(ctx.clients.doc, ctx.config.tableName());
}

function rolloutIdOf(id: string | undefined, verb: string): string {
  if (id === undefined) throw new UsageError(`missing rollout id: octw fleet rollout ${verb} ID`);
  const parsed = RolloutIdSchema.safeParse(id);
  if (!parsed.success) throw new UsageError(`"${id}" is not a rollout id (${parsed.error.issues[0]?.message ?? 'r<date>t<time>-<hex>'})`);
  return parsed.data;
}

export async function runFleetRollout(ctx: CommandContext, args: FleetRolloutArgs): Promise<void> {
  if (args.verb === undefined) return startRollout(ctx, args);
  if (!(VERBS as readonly string[]).includes(args.verb)) {
    throw new UsageError(`unknown command "fleet rollout ${args.verb}": start one with --image/--plan, or show, pause, resume, abort ID`);
  }
  const id = rolloutIdOf(args.id, args.verb);
  if (args.verb === 'show') return showRollout(ctx, id);
  const control = args.verb === 'pause' ? 'pause' : args.verb === 'resume' ? 'run' : 'abort';
  const meta = await store(ctx).requestControl(id, control);
  if (ctx.json) ctx.emit({ rolloutId: id, state: meta.state, control: meta.control });
  else
    ctx.print(
      args.verb === 'pause'
        ? `rollout ${id}: pause requested; the wave in flight finishes, the next one waits\n`
        : args.verb === 'resume'
          ? `rollout ${id}: resumed\n`
          : `rollout ${id}: abort requested; tenants in flight finish their update, no further tenant starts\n`,
    );
}

async function startRollout(ctx: CommandContext, args: FleetRolloutArgs): Promise<void> {
  if (args.id !== undefined) throw new UsageError(`unexpected argument "${args.id}" for "octw fleet rollout"`);
  if (args.image === undefined && args.plan === undefined) throw new UsageError('a rollout needs --image REPO@sha256:<digest>, --plan P, or both');
  if (args.image !== undefined) {
    if (!DIGEST_IMAGE.test(args.image)) throw new UsageError(`--image "${args.image}" must be pinned by digest: REPOSITORY@sha256:<64 hex>`);
    const plans = ctx.config.plans?.();
    if (plans) {
      const issues = rolloutImageIssues(args.image, plans);
      if (issues.length > 0) throw new UsageError(`--image: ${issues.join('; ')}`);
    }
  }
  if (args.plan !== undefined && !/^[a-z][a-z0-9-]{0,31}$/.test(args.plan)) throw new UsageError(`--plan "${args.plan}" is not a plan id`);
  const canary = integer('canary', args.canary, 1, 50);
  const waveSize = integer('wave', args.wave, 1, 1000);
  if (canary === undefined || waveSize === undefined) throw new UsageError('a rollout needs --canary N and --wave N');
  const maxFailurePercent = args.maxFailurePercent === undefined ? undefined : Number(args.maxFailurePercent);
  if (maxFailurePercent !== undefined && (!Number.isFinite(maxFailurePercent) || maxFailurePercent < 0 || maxFailurePercent > 100)) {
    throw new UsageError(`--max-failure-percent "${args.maxFailurePercent}" must be a number from 0 to 100`);
  }
  const maxConcurrency = integer('max-concurrency', args.maxConcurrency, 1, 40);
  const tenantIds = args.tenants?.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const request = {
    ...(args.image !== undefined ? { image: args.image } : {}),
    ...(args.plan !== undefined ? { plan: args.plan } : {}),
    canary,
    waveSize,
    ...(maxFailurePercent !== undefined ? { maxFailurePercent } : {}),
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    ...(tenantIds && tenantIds.length > 0 ? { tenantIds } : {}),
  };
  const stateMachineArn = await ctx.config.stateMachineArn('RolloutFleet', () => ctx.clients.region());
  const rolloutId = newRolloutId(new Date((ctx.io.now ?? Date.now)()), randomBytes(2).toString('hex'));
  const started = await ctx.clients.sfn.send(new StartExecutionCommand({ stateMachineArn, name: rolloutId, input: JSON.stringify({ rolloutId, request }) }));
  const executionArn = started.executionArn ?? '';
  ctx.note(`rollout ${rolloutId} started (${executionArn})`);
  if (!args.wait) {
    if (ctx.json) ctx.emit({ rolloutId, executionArn, started: true });
    else ctx.print(`${rolloutId}\n`);
    return;
  }
  await follow(ctx, rolloutId, executionArn, args.pollIntervalMs);
}

/** One progress line per change: the wave running, its outcomes so far. */
function progressLine(meta: RolloutMeta, tenants: readonly RolloutTenant[]): string {
  const count = (o: string) => tenants.filter((t) => t.outcome === o).length;
  const waves = meta.waves.map((w) => `${w.canary ? 'canary' : `w${w.index}`}:${w.state.toLowerCase()}`).join(' ');
  const changed = count('UPDATED') + count('RESTAGED') + count('UNCHANGED');
  return `${meta.state.padEnd(9)} ${waves} | done ${changed}/${tenants.length}, failed ${count('FAILED')}, skipped ${count('SKIPPED')}, rolled back ${count('ROLLED_BACK')}${meta.control !== 'run' && !FINISHED.has(meta.state) ? ` (${meta.control} requested)` : ''}`;
}

async function follow(ctx: CommandContext, rolloutId: string, executionArn: string, pollIntervalMs: number): Promise<void> {
  const sleep = ctx.io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const rollouts = store(ctx);
  let last = '';
  for (;;) {
    const meta = await rollouts.get(rolloutId);
    const execution = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const tenants = meta ? await rollouts.tenants(rolloutId) : [];
    if (meta && tenants.length > 0) {
      const line = progressLine(meta, tenants);
      if (line !== last) ctx.note(line);
      last = line;
    }
    if (execution.status !== 'RUNNING') {
      if (!meta) {
        // Refused before any record was written (the Begin step's validation).
        const cause = execution.cause ?? '';
        let message = cause;
        try {
          message = (JSON.parse(cause) as { errorMessage?: string }).errorMessage ?? cause;
        } catch {
          // plain text
        }
        throw new WorkflowFailedError(`rollout ${rolloutId} ${execution.status}: ${execution.error ?? ''}: ${message}`);
      }
      const final = (await rollouts.get(rolloutId)) ?? meta;
      if (FINISHED.has(final.state)) return report(ctx, final, await rollouts.tenants(rolloutId));
    }
    await sleep(pollIntervalMs);
  }
}

function report(ctx: CommandContext, meta: RolloutMeta, tenants: readonly RolloutTenant[]): void {
  if (ctx.json) ctx.emit({ rollout: publicMeta(meta), tenants: tenants.map(publicTenant) });
  else ctx.print(render(meta, tenants));
  if (meta.state !== 'SUCCEEDED') throw new WorkflowFailedError(`rollout ${meta.rolloutId} ${meta.state}${meta.reason ? `: ${meta.reason}` : ''}`);
}

const publicMeta = (m: RolloutMeta) => {
  const { pk: _pk, sk: _sk, ...rest } = m;
  return Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('gsi')));
};
const publicTenant = (t: RolloutTenant) => ({ tenantId: t.tenantId, wave: t.wave, statusAtStart: t.statusAtStart, outcome: t.outcome, ...(t.detail ? { detail: t.detail } : {}) });

function render(meta: RolloutMeta, tenants: readonly RolloutTenant[]): string {
  return (
    keyValues([
      ['rollout', meta.rolloutId],
      ['state', meta.state],
      ['image', meta.image],
      ['plan', meta.plan],
      ['canary', String(meta.canary)],
      ['wave size', `${meta.waveSize} (at most ${meta.maxConcurrency} at once, ${meta.maxFailurePercent} % failures tolerated)`],
      ['started', meta.startedAt],
      ['finished', meta.finishedAt],
      ['reason', meta.reason],
      ['quota check', quotaLine(meta)],
    ]) +
    (meta.quota && meta.quota.refusals.length > 0
      ? '\n' + table(['QUOTA', 'CODE', 'LIMIT', 'USED', 'NEEDED'], meta.quota.refusals.map((r) => [r.quota, r.code ?? '-', String(r.limit), String(r.usage), String(r.need)]))
      : '') +
    '\n' +
    table(['WAVE', 'SIZE', 'STATE', 'FAILED'], meta.waves.map((w) => [w.canary ? 'canary' : String(w.index), String(w.size), w.state, String(w.failed)])) +
    '\n' +
    table(['TENANT', 'WAVE', 'WAS', 'OUTCOME', 'DETAIL'], tenants.map((t) => [t.tenantId, String(t.wave), t.statusAtStart, t.outcome, truncate(t.detail ?? '', 100)]))
  );
}

/** The quota check's needs in one line (absent: the cell's quota guard is off). */
function quotaLine(meta: RolloutMeta): string | undefined {
  const q = meta.quota;
  if (!q) return undefined;
  const needs = Object.entries(q.needs).map(([k, v]) => `${k} +${v}`).join(', ') || 'nothing extra';
  return `${q.ok ? 'fits' : 'REFUSED'}: needs ${needs} (${q.basis.concurrency} at once, ${q.basis.surgeTasks} extra task(s) while deploying, ${q.basis.planGrowthTenants} tenant(s) on a bigger plan)`;
}

async function showRollout(ctx: CommandContext, rolloutId: string): Promise<void> {
  const rollouts = store(ctx);
  const meta = await rollouts.require(rolloutId);
  const tenants = await rollouts.tenants(rolloutId);
  if (ctx.json) ctx.emit({ rollout: publicMeta(meta), tenants: tenants.map(publicTenant) });
  else ctx.print(render(meta, tenants));
}

export async function listRollouts(ctx: CommandContext, args: { limit?: string | undefined; cell?: string | undefined }): Promise<void> {
  const limit = integer('limit', args.limit, 1, 100) ?? 20;
  const list = await store(ctx).list(cellOf(ctx, args.cell), limit);
  if (ctx.json) {
    ctx.emit({ rollouts: list.map(publicMeta) });
    return;
  }
  ctx.print(
    table(
      ['ROLLOUT', 'STATE', 'IMAGE', 'PLAN', 'WAVES', 'STARTED', 'REASON'],
      list.map((m) => [
        m.rolloutId,
        m.state,
        m.image ? `…${m.image.slice(-12)}` : '-',
        m.plan ?? '-',
        `${m.waves.filter((w) => w.state === 'PASSED').length}/${m.waves.length}`,
        m.startedAt,
        truncate(m.reason ?? '', 60),
      ]),
    ),
  );
}
