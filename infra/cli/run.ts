/**
 * `octw` as a function: `run(argv, io)` parses the arguments, runs one command and returns the
 * exit code (see errors.ts). Nothing here touches process.exit or process.stdout, so tests run
 * the CLI in-process; main.ts binds it to the real process.
 */
import { parseArgs } from 'node:util';
import { createClients, type CliClients } from './aws';
import { showDenials } from './egress-denials';
import { resolveConfig } from './config';
import type { CommandContext } from './context';
import { classify, EXIT, UsageError, type ExitCode } from './errors';
import type { CliIo } from './io';
import { OPERATION_NAMES, runOperation } from './operations';
import { runChannels } from './channels';
import { runAudit, runFleetReconcile } from './fleet-reconcile';
import { listRollouts, runFleetRollout } from './fleet-rollout';
import { runModels } from './models';
import { runPairing } from './pairing';
import { runDevices } from './devices';
import { runIngressOidc } from './ingress-oidc';
import { putSignup } from './signup';
import { runExport, runRestore } from './backup';
import { listTenants, showTenant } from './tenants-read';
import { USAGE } from './usage';
import type { Operation } from '../../functions/domain/operations';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  immediate: { type: 'boolean' },
  status: { type: 'string' },
  limit: { type: 'string' },
  file: { type: 'string', short: 'f' },
  plan: { type: 'string' },
  'allowlist-file': { type: 'string' },
  'host-allow': { type: 'string', multiple: true },
  preset: { type: 'string', multiple: true },
  'clear-hosts': { type: 'boolean' },
  image: { type: 'string' },
  'poll-interval': { type: 'string' },
  cell: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  account: { type: 'string' },
  'state-machine-arn-prefix': { type: 'string' },
  'event-bus': { type: 'string' },
  source: { type: 'string' },
  since: { type: 'string' },
  'log-group': { type: 'string' },
  type: { type: 'string' },
  credential: { type: 'string', multiple: true },
  'allow-from': { type: 'string' },
  groups: { type: 'string' },
  roles: { type: 'string' },
  provider: { type: 'string' },
  'key-file': { type: 'string' },
  remove: { type: 'boolean' },
  rotate: { type: 'boolean' },
  channel: { type: 'string' },
  endpoint: { type: 'string' },
  tenant: { type: 'string' },
  repair: { type: 'boolean' },
  'recovery-point': { type: 'string' },
  to: { type: 'string' },
  'kms-key': { type: 'string' },
  canary: { type: 'string' },
  wave: { type: 'string' },
  'max-failure-percent': { type: 'string' },
  'max-concurrency': { type: 'string' },
  tenants: { type: 'string' },
  'oidc-issuer': { type: 'string' },
  'oidc-authorization-endpoint': { type: 'string' },
  'oidc-token-endpoint': { type: 'string' },
  'oidc-userinfo-endpoint': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'no-oidc': { type: 'boolean' },
} as const;
type OptionName = keyof typeof OPTIONS;

const GLOBAL: readonly OptionName[] = ['help', 'json', 'cell', 'table', 'region', 'account', 'state-machine-arn-prefix', 'event-bus', 'source'];
const OPERATION_OPTIONS: readonly OptionName[] = ['wait', 'poll-interval'];

/** Options each command accepts besides the global ones. */
const COMMAND_OPTIONS: Record<string, readonly OptionName[]> = {
  'tenants list': ['status'],
  'tenants show': ['limit'],
  'tenants denials': ['limit', 'since', 'log-group'],
  'tenants provision': [...OPERATION_OPTIONS, 'file'],
  'tenants reprovision': OPERATION_OPTIONS,
  'tenants deprovision': OPERATION_OPTIONS,
  'tenants suspend': OPERATION_OPTIONS,
  'tenants resume': OPERATION_OPTIONS,
  'tenants update': [...OPERATION_OPTIONS, 'plan', 'allowlist-file', 'host-allow', 'preset', 'clear-hosts', 'image'],
  'tenants purge': [...OPERATION_OPTIONS, 'immediate'],
  'tenants models': [...OPERATION_OPTIONS, 'provider', 'key-file', 'remove', 'rotate'],
  signup: ['file'],
  'tenants channels': [...OPERATION_OPTIONS, 'type', 'credential', 'allow-from', 'groups', 'roles'],
  'tenants pairing': ['channel', 'endpoint'],
  'tenants devices': ['endpoint'],
  'fleet reconcile': ['tenant', 'repair'],
  audit: ['tenant'],
  'tenants restore': [...OPERATION_OPTIONS, 'recovery-point'],
  'tenants export': [...OPERATION_OPTIONS, 'to', 'kms-key'],
  'fleet rollout': [...OPERATION_OPTIONS, 'image', 'plan', 'canary', 'wave', 'max-failure-percent', 'max-concurrency', 'tenants'],
  'fleet rollouts': ['limit'],
  'tenants ingress': [...OPERATION_OPTIONS, 'oidc-issuer', 'oidc-authorization-endpoint', 'oidc-token-endpoint', 'oidc-userinfo-endpoint', 'client-id', 'client-secret-file', 'no-oidc'],
};

export const DEFAULT_POLL_INTERVAL_MS = 2000;

export interface RunOptions {
  /** Clients to use instead of building them from the SDK chain (tests). */
  readonly clients?: CliClients;
}

export async function run(argv: readonly string[], io: CliIo, options: RunOptions = {}): Promise<ExitCode> {
  const json = argv.includes('--json');
  let clients: CliClients | undefined = options.clients;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err));
    }
    const { values, positionals } = parsed;
    if (values.help === true || positionals.length === 0) {
      io.stdout.write(USAGE);
      return positionals.length === 0 && values.help !== true ? EXIT.usage : EXIT.ok;
    }

    const [group, sub, ...rest] = positionals;
    const command = group === 'tenants' || group === 'fleet' ? `${group} ${sub ?? ''}`.trim() : (group ?? '');
    const allowed = COMMAND_OPTIONS[command];
    if (allowed === undefined) {
      throw new UsageError(
        group === 'tenants'
          ? sub === undefined
            ? 'missing command after "tenants": list, show, denials, provision, reprovision, deprovision, suspend, resume, update, purge, channels, models, pairing, devices or ingress'
            : `unknown command "tenants ${sub}"`
          : `unknown command "${group}"`,
      );
    }
    for (const name of Object.keys(values) as OptionName[]) {
      if (!GLOBAL.includes(name) && !allowed.includes(name)) throw new UsageError(`option --${name} does not apply to "octw ${command}"`);
    }
    const channelAction = command === 'tenants channels' || command === 'tenants pairing' || command === 'tenants devices' || command === 'fleet rollout' ? rest.shift() : undefined;
    const args = group === 'tenants' || group === 'fleet' ? rest : [sub, ...rest].filter((a): a is string => a !== undefined);
    const maxPositionals =
      command === 'tenants list' || command === 'signup' || command === 'fleet reconcile' || command === 'audit' || command === 'fleet rollouts' ? 0 : command === 'tenants pairing' || command === 'tenants devices' ? 2 : 1;
    if (args.length > maxPositionals) throw new UsageError(`unexpected argument "${args[maxPositionals] ?? ''}" for "octw ${command}"`);

    const config = resolveConfig(
      {
        cell: values.cell,
        table: values.table,
        region: values.region,
        account: values.account,
        stateMachineArnPrefix: values['state-machine-arn-prefix'],
        eventBus: values['event-bus'],
        source: values.source,
      },
      io.env,
    );
    clients ??= createClients(config.region);
    const ctx: CommandContext = {
      io,
      config,
      clients,
      json,
      print: (text) => {
        if (!json) io.stdout.write(text);
      },
      note: (text) => {
        if (!json) io.stderr.write(`${text}\n`);
      },
      emit: (doc) => {
        io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      },
    };

    switch (command) {
      case 'tenants list':
        await listTenants(ctx, values.status);
        break;
      case 'tenants show':
        await showTenant(ctx, args[0], values.limit);
        break;
      case 'tenants denials':
        await showDenials(ctx, args[0], { limit: values.limit, since: values.since, logGroup: values['log-group'], cell: values.cell });
        break;
      case 'signup':
        await putSignup(ctx, values.file);
        break;
      case 'tenants channels':
        await runChannels(
          ctx,
          {
            action: channelAction,
            id: args[0],
            type: values.type,
            credentials: values.credential,
            allowFrom: values['allow-from'],
            groups: values.groups,
            roles: values.roles,
            wait: values.wait === true,
            pollIntervalMs: pollInterval(values['poll-interval']),
          },
          io.readStdin ?? readProcessStdin,
        );
        break;
      case 'tenants pairing':
        await runPairing(ctx, { action: channelAction, id: args[0], requestId: args[1], channel: values.channel, endpoint: values.endpoint });
        break;
      case 'tenants devices':
        await runDevices(ctx, { action: channelAction, id: args[0], requestId: args[1], endpoint: values.endpoint });
        break;
      case 'fleet reconcile':
        return await runFleetReconcile(ctx, { tenant: values.tenant, repair: values.repair === true, cell: values.cell });
      case 'audit':
        return await runAudit(ctx, { tenant: values.tenant, cell: values.cell });
      case 'fleet rollout':
        await runFleetRollout(ctx, {
          verb: channelAction,
          id: args[0],
          image: values.image,
          plan: values.plan,
          canary: values.canary,
          wave: values.wave,
          maxFailurePercent: values['max-failure-percent'],
          maxConcurrency: values['max-concurrency'],
          tenants: values.tenants,
          cell: values.cell,
          wait: values.wait === true,
          pollIntervalMs: pollInterval(values['poll-interval']),
        });
        break;
      case 'tenants ingress':
        await runIngressOidc(ctx, {
          id: args[0],
          issuer: values['oidc-issuer'],
          authorizationEndpoint: values['oidc-authorization-endpoint'],
          tokenEndpoint: values['oidc-token-endpoint'],
          userInfoEndpoint: values['oidc-userinfo-endpoint'],
          clientId: values['client-id'],
          clientSecretFile: values['client-secret-file'],
          noOidc: values['no-oidc'],
          wait: values.wait === true,
          pollIntervalMs: pollInterval(values['poll-interval']),
        });
        break;
      case 'fleet rollouts':
        await listRollouts(ctx, { limit: values.limit, cell: values.cell });
        break;
      case 'tenants models':
        await runModels(ctx, {
          id: args[0],
          provider: values.provider,
          keyFile: values['key-file'],
          remove: values.remove,
          rotate: values.rotate,
          wait: values.wait === true,
          pollIntervalMs: pollInterval(values['poll-interval']),
        });
        break;
      case 'tenants restore':
        await runRestore(ctx, { id: args[0], recoveryPoint: values['recovery-point'], wait: values.wait === true, pollIntervalMs: pollInterval(values['poll-interval']) });
        break;
      case 'tenants export':
        await runExport(ctx, { id: args[0], to: values.to, kmsKey: values['kms-key'], wait: values.wait === true, pollIntervalMs: pollInterval(values['poll-interval']) });
        break;
      default:
        await runOperation(ctx, {
          operation: operationOf(sub),
          id: args[0],
          file: values.file,
          plan: values.plan,
          allowlistFile: values['allowlist-file'],
          hostAllow: values['host-allow'],
          presets: values.preset,
          clearHosts: values['clear-hosts'],
          image: values.image,
          immediate: values.immediate,
          wait: values.wait === true,
          pollIntervalMs: pollInterval(values['poll-interval']),
        });
    }
    return EXIT.ok;
  } catch (err) {
    const c = classify(err);
    const issues = typeof err === 'object' && err !== null && 'issues' in err && Array.isArray(err.issues) ? { issues: err.issues as unknown[] } : {};
    if (json) io.stderr.write(`${JSON.stringify({ error: { name: c.name, message: c.message, exitCode: c.code, ...issues } })}\n`);
    else io.stderr.write(`octw: ${c.message}${c.code === EXIT.usage && !('issues' in issues) ? '\n(see octw --help)' : ''}\n`);
    return c.code;
  } finally {
    if (options.clients === undefined) clients?.destroy();
  }
}

/** All of the process's stdin (a credential given as FIELD=-). */
async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function operationOf(sub: string | undefined): Operation {
  const op = OPERATION_NAMES.find((o) => o === sub);
  if (op === undefined) throw new UsageError(`unknown command "tenants ${sub ?? ''}"`);
  return op;
}

function pollInterval(value: string | undefined): number {
  if (value === undefined) return DEFAULT_POLL_INTERVAL_MS;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) throw new UsageError(`--poll-interval "${value}" must be milliseconds from 0 to 60000`);
  return ms;
}
