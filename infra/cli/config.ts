/**
 * Where `octw` finds the platform: flags first, then OCTW_* environment variables, then names
 * derived from the cell the way infra/config.ts and infra/constructs/workflows.ts derive them
 * (`octw-<cell>-tenants`, bus `octw-<cell>`, state machine `octw-<cell>-<kebab key>`).
 * Credentials, region and endpoints come from the AWS SDK's own chain (AWS_PROFILE, AWS_REGION,
 * AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL_EVENTBRIDGE, ...).
 */
import type { StateMachineKey } from '../../functions/handlers/catalogue';
import * as z from 'zod';
import { PlanSchema, type Plan } from '../../functions/domain/tenant';
import { UsageError } from './errors';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigFlags {
  readonly cell?: string | undefined;
  readonly table?: string | undefined;
  readonly region?: string | undefined;
  readonly account?: string | undefined;
  readonly stateMachineArnPrefix?: string | undefined;
  readonly eventBus?: string | undefined;
  readonly source?: string | undefined;
}

/** The CDK default of `signupSource` (cdk.json context): the source the TenantSignedUp rule matches. */
export const DEFAULT_SIGNUP_SOURCE = 'octw.signup';

/** Same rule as infra/constructs/workflows.ts `kebab` (kept here so the CLI does not load aws-cdk-lib). */
export const kebab = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

export interface CliConfig {
  /** Region for the SDK clients; undefined lets the SDK chain decide. */
  readonly region: string | undefined;
  tableName(): string;
  eventBusName(): string;
  signupSource(): string;
  /** The ARN of a state machine; `resolveRegion` asks the SDK when no region was configured. */
  stateMachineArn(key: StateMachineKey, resolveRegion: () => Promise<string>): Promise<string>;
  /**
   * The cell's plan catalogue when the operator gave it (OCTW_PLANS_JSON: the functions' PLANS_JSON),
   * for checks before anything is stored; undefined otherwise (the workflow then checks alone).
   */
  plans?(): readonly Plan[] | undefined;
}

const CELL_PATTERN = /^[a-z][a-z0-9-]{1,14}[a-z0-9]$/;

export function resolveConfig(flags: ConfigFlags, env: Env): CliConfig {
  const pick = (flag: string | undefined, name: string): string | undefined => {
    const value = flag ?? env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const cell = pick(flags.cell, 'OCTW_CELL');
  if (cell !== undefined && !CELL_PATTERN.test(cell)) {
    throw new UsageError(`--cell "${cell}" is not a cell id (3-16 characters of a-z, 0-9 and "-", starting with a letter)`);
  }
  const region = pick(flags.region, 'AWS_REGION') ?? pick(undefined, 'AWS_DEFAULT_REGION');
  const table = pick(flags.table, 'OCTW_TABLE');
  const bus = pick(flags.eventBus, 'OCTW_EVENT_BUS');
  const source = pick(flags.source, 'OCTW_SIGNUP_SOURCE');
  const prefix = pick(flags.stateMachineArnPrefix, 'OCTW_STATE_MACHINE_ARN_PREFIX');
  const account = pick(flags.account, 'OCTW_ACCOUNT');
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new UsageError(`--account "${account}" is not a 12-digit AWS account id`);
  if (prefix !== undefined && !/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:/.test(prefix)) {
    throw new UsageError(
      `OCTW_STATE_MACHINE_ARN_PREFIX "${prefix}" must start with arn:<partition>:states:<region>:<account>:stateMachine:`,
    );
  }

  const plansJson = pick(undefined, 'OCTW_PLANS_JSON');
  let plans: readonly Plan[] | undefined;
  if (plansJson !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(plansJson);
    } catch {
      throw new UsageError('OCTW_PLANS_JSON is not valid JSON (give the cell\'s PLANS_JSON, a list of plans)');
    }
    const parsed = z.array(PlanSchema).safeParse(raw);
    if (!parsed.success) throw new UsageError(`OCTW_PLANS_JSON is not a plan catalogue: ${z.prettifyError(parsed.error)}`);
    plans = parsed.data;
  }

  return {
    region,
    plans: () => plans,
    tableName() {
      if (table !== undefined) return table;
      if (cell !== undefined) return `octw-${cell}-tenants`;
      throw new UsageError('no tenants table configured: give --table or OCTW_TABLE, or --cell or OCTW_CELL');
    },
    eventBusName() {
      if (bus !== undefined) return bus;
      if (cell !== undefined) return `octw-${cell}`;
      throw new UsageError('no event bus configured: give --event-bus or OCTW_EVENT_BUS, or --cell or OCTW_CELL');
    },
    signupSource: () => source ?? DEFAULT_SIGNUP_SOURCE,
    async stateMachineArn(key, resolveRegion) {
      if (prefix !== undefined) {
        if (prefix.includes('{key}')) return prefix.replaceAll('{key}', key);
        if (prefix.includes('{name}')) return prefix.replaceAll('{name}', kebab(key));
        return `${prefix}${kebab(key)}`;
      }
      if (cell !== undefined && account !== undefined) {
        const r = region ?? (await resolveRegion());
        return `arn:aws:states:${r}:${account}:stateMachine:octw-${cell}-${kebab(key)}`;
      }
      throw new UsageError(
        'cannot tell which state machine to start: give OCTW_STATE_MACHINE_ARN_PREFIX ' +
          '(e.g. arn:aws:states:eu-west-1:111122223333:stateMachine:octw-cell-1-) or --cell with --account',
      );
    },
  };
}
