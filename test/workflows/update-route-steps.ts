/**
 * The update workflow change issue 12's OIDC update needs, as a patch of
 * state-machines/update-tenant.asl.json (owned by the "events" helper this session, so it is not
 * edited here): three states, all on the Ingress function's `apply` action.
 *  - `IngressChanged` (Choice): `$.claim.ingressChanged` → `ApplyRoute`, else `MarkUpdated`; every
 *    transition that went to `MarkUpdated` (TaskDefinitionChanged's default, RolloutSteady) goes here;
 *  - `ApplyRoute` (Task, Ingress `apply`): the route again with the new OIDC provider; Catch → BeginRestore;
 *  - `RestoreRoute` (Task, Ingress `apply`) between `RestorePreviousConfig` and
 *    `RestoreSecurityGroupRules`: the record holds the previous provider again, so `apply` puts it
 *    back (skipped when the tenant has no route); Catch → `$.restoreErrors.RestoreRoute`.
 * `patchUpdateWorkflow(dir)` writes the patched copy of every ASL file into `dir` (a no-op patch when
 * the file already has `ApplyRoute`, i.e. once the change has landed).
 */
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SM_DIR = join(__dirname, '..', '..', 'state-machines');

type State = Record<string, unknown> & { Next?: string; Default?: string; Choices?: (Record<string, unknown> & { Next: string })[] };

export function withUpdateRouteSteps(definition: { States: Record<string, State> }): { States: Record<string, State> } {
  const states = definition.States;
  if (states.ApplyRoute) return definition;
  const template = states.ApplyEgressPolicy as State;
  const restoreTemplate = states.RestoreEgressPolicy as State;
  const retry = template.Retry;
  const patched: Record<string, State> = {};
  for (const [name, s] of Object.entries(states)) {
    const copy: State = JSON.parse(JSON.stringify(s)) as State;
    if (name !== 'IngressChanged' && name !== 'ApplyRoute') {
      if (copy.Default === 'MarkUpdated') copy.Default = 'IngressChanged';
      for (const c of copy.Choices ?? []) if (c.Next === 'MarkUpdated') c.Next = 'IngressChanged';
      if (copy.Next === 'MarkUpdated') copy.Next = 'IngressChanged';
    }
    if (name === 'RestorePreviousConfig') {
      copy.Next = 'RestoreRoute';
      copy.Catch = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.restoreErrors.RestorePreviousConfig', Next: 'RestoreRoute' }];
    }
    patched[name] = copy;
  }
  patched.IngressChanged = {
    Type: 'Choice',
    Comment: "The tenant's OIDC provider changed: its route is put again",
    Choices: [{ Variable: '$.claim.ingressChanged', BooleanEquals: true, Next: 'ApplyRoute' }],
    Default: 'MarkUpdated',
  };
  patched.ApplyRoute = {
    Type: 'Task',
    Comment: "The tenant's route again in its current mode with its (new) OIDC provider: authenticate-oidc before forward, the client secret read by the Ingress function at this moment",
    Resource: '${IngressFunctionArn}',
    TimeoutSeconds: 70,
    Parameters: { 'tenantId.$': '$.tenantId', 'executionArn.$': '$$.Execution.Id', action: 'apply' },
    ResultPath: null,
    Retry: retry,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'BeginRestore' }],
    Next: 'MarkUpdated',
  };
  patched.RestoreRoute = {
    Type: 'Task',
    Comment: "The previous OIDC provider (the record holds it again) back on the tenant's route",
    Resource: '${IngressFunctionArn}',
    TimeoutSeconds: 70,
    Parameters: { 'tenantId.$': '$.tenantId', 'executionArn.$': '$$.Execution.Id', action: 'apply' },
    ResultPath: null,
    Retry: restoreTemplate.Retry,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.restoreErrors.RestoreRoute', Next: 'RestoreSecurityGroupRules' }],
    Next: 'RestoreSecurityGroupRules',
  };
  return { ...definition, States: patched };
}

/** Copies state-machines/ into `dir` with the update workflow patched. */
export function patchUpdateWorkflow(dir: string): void {
  for (const f of readdirSync(SM_DIR)) if (f.endsWith('.asl.json')) copyFileSync(join(SM_DIR, f), join(dir, f));
  const file = join(dir, 'update-tenant.asl.json');
  const def = JSON.parse(readFileSync(file, 'utf8')) as { States: Record<string, State> };
  writeFileSync(file, JSON.stringify(withUpdateRouteSteps(def), null, 2));
}
