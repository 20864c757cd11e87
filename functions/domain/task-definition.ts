/**
 * The hardened task definition of a tenant gateway, as a pure function of tenant + plan + cell.
 * Shapes mirror ECS RegisterTaskDefinition input (structurally compatible with the SDK type) so
 * the domain stays free of SDK imports.
 *
 * Containers:
 *  - config-init: short-lived, same image (no extra image to pull or trust), writes the rendered
 *    openclaw.json into the task-local volume "config", mode 0400 and owned by the gateway's uid
 *    (OpenClaw's audit reports a config readable by others as CRITICAL), and gives the task-local
 *    /tmp to that uid. It runs as uid 0 with every capability dropped but CAP_CHOWN, and chmods
 *    before it chowns (root without CAP_FOWNER cannot chmod a file it no longer owns). No secret.
 *  - gateway: OpenClaw as the tenant's access-point uid/gid (the EFS access point presents every
 *    file as that PosixUser; run as any other uid, OpenClaw refuses its own state: exit 78), read-only
 *    root file system, all capabilities dropped, init process, state on the tenant's EFS access point,
 *    config mounted read-only, caches on task-local /tmp (XDG_CACHE_HOME; without a writable cache
 *    dir OpenClaw exits 78), token (and any model-provider key) from Secrets Manager via ECS
 *    `secrets`, health check on /healthz (OpenClaw's documented liveness probe) requiring "ok":true.
 *
 * Image contract (image/Dockerfile): the pinned OpenClaw package set installed with npm in /app
 * (so the CLI is /app/node_modules/openclaw/openclaw.mjs), `node` on PATH, HOME=/home/node.
 */
import { CONFIG_INIT_CONTAINER, GATEWAY_CONTAINER, GATEWAY_PORT, names, tenantTags } from './naming';
import { channelSecretEnv, type TenantChannel } from './channels';
import { GATEWAY_TOKEN_ENV, modelProviderKeyEnv } from './openclaw-config';
import { IMAGE_APP_DIR } from './openclaw-release';
import type { Plan, TenantId } from './tenant';
import { proxyContainerEnv } from './egress-proxy-client';
import { renderChannelsPart } from './openclaw-config';
import { PLUGIN_INIT_CONTAINER, packagedPluginInstalls, pluginInitScript } from './plugin-install-records';
import { OPERATOR_PAIRING_SCRIPT, OPERATOR_PAIRING_SCRIPT_ENV } from './operator-device';

export const CONFIG_DIR = '/octw/config';
export const CONFIG_FILE = `${CONFIG_DIR}/openclaw.json`;
export const STATE_DIR = '/home/node/.openclaw';
const INIT_TMP_MOUNT = '/octw/tmp';
/** Task-local (the "tmp" volume), never EFS: OpenClaw's cache and fallback temp dir. */
export const CACHE_DIR = '/tmp/.cache';
/** The image's application directory and the OpenClaw CLI in it (image/Dockerfile). */
export const APP_DIR = IMAGE_APP_DIR;
export const OPENCLAW_ENTRY = 'node_modules/openclaw/openclaw.mjs';

export interface TaskDefinitionInput {
  tenantId: TenantId;
  cell: string;
  plan: Plan;
  region: string;
  fileSystemId: string;
  accessPointId: string;
  /** The access point's PosixUser (the tenant record's uid/gid): the gateway runs as it. */
  posixUser: { uid: number; gid: number };
  taskRoleArn: string;
  executionRoleArn: string;
  secretArn: string;
  /**
   * The tenant's egress-proxy URL secret (issue 10), when the cell has a proxy: injected as the
   * proxy variables of functions/domain/egress-proxy-client.ts. Absent: no proxy variables.
   */
  proxySecretArn?: string | undefined;
  /**
   * The tenant's own provider keys (bring your own key), each a credential secret already verified
   * to be this tenant's (name prefix + tags, adapters/tenant-credentials.ts). Never a platform key.
   */
  modelKeySecrets?: readonly { provider: string; secretArn: string; generation?: number | undefined }[];
  logGroupName: string;
  /** The serialized openclaw.json (see openclaw-config.ts). */
  openclawConfigJson: string;
  /** configHash of this revision's inputs; tagged so a retried step can recognise its own revision. */
  configHash: string;
  /** The tenant's channels: each credential is injected from its verified secret ARN as OCTW_CHANNEL_<TYPE>_<FIELD>. */
  channels?: readonly TenantChannel[];
  /**
   * Ingress on (issue 12): the gateway container also pairs the platform operator's device over
   * loopback at start (operator-device.ts), so `octw tenants pairing` works through the endpoint.
   */
  operatorPairing?: boolean;
}

interface KeyValue {
  name: string;
  value: string;
}

/**
 * ECS `secrets` of the tenant's provider keys [models, contract 2]: `OCTW_MODEL_<PROVIDER>_API_KEY`
 * from the tenant's own credential secret, only for providers of its plan that take a tenant key.
 */
export function modelKeySecrets(input: Pick<TaskDefinitionInput, 'plan' | 'modelKeySecrets'>): { name: string; valueFrom: string }[] {
  return (input.modelKeySecrets ?? []).map((k) => {
    const provider = input.plan.modelProviders.find((p) => p.id === k.provider);
    if (provider?.apiKey !== 'tenant') throw new RangeError(`model provider "${k.provider}" of plan "${input.plan.id}" takes no tenant key`);
    return { name: modelProviderKeyEnv(k.provider), valueFrom: k.secretArn };
  });
}

/**
 * The rotation counters of the tenant's credentials (`OCTW_CREDENTIAL_GENERATIONS`, e.g.
 * `channels.telegram.botToken=2 modelKeys.byok=1`; absent while none was rotated). Counters only,
 * never a value: a rotation changes the definition, so a new revision is registered and rolled out,
 * and ECS injects each secret's current value into the new tasks.
 */
export function credentialGenerationsEnv(input: Pick<TaskDefinitionInput, 'channels' | 'modelKeySecrets'>): { name: string; value: string }[] {
  const rotated = [
    ...(input.channels ?? []).flatMap((c) => Object.entries(c.credentials).flatMap(([f, v]) => (v.generation ? [`channels.${c.type}.${f}=${v.generation}`] : []))),
    ...(input.modelKeySecrets ?? []).flatMap((k) => (k.generation ? [`modelKeys.${k.provider}=${k.generation}`] : [])),
  ].sort();
  return rotated.length > 0 ? [{ name: 'OCTW_CREDENTIAL_GENERATIONS', value: rotated.join(' ') }] : [];
}

export interface ContainerDefinitionShape {
  name: string;
  image: string;
  essential: boolean;
  command?: string[];
  entryPoint?: string[];
  workingDirectory?: string;
  user: string;
  readonlyRootFilesystem: boolean;
  privileged: boolean;
  linuxParameters: { capabilities: { drop: string[]; add: string[] }; initProcessEnabled: boolean };
  environment: KeyValue[];
  secrets?: { name: string; valueFrom: string }[];
  mountPoints: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
  portMappings?: { containerPort: number; protocol: 'tcp'; name?: string }[];
  dependsOn?: { containerName: string; condition: 'SUCCESS' | 'START' | 'COMPLETE' | 'HEALTHY' }[];
  healthCheck?: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
  logConfiguration: { logDriver: 'awslogs'; options: Record<string, string> };
  stopTimeout?: number;
}

export interface TaskDefinitionShape {
  family: string;
  taskRoleArn: string;
  executionRoleArn: string;
  networkMode: 'awsvpc';
  requiresCompatibilities: ['FARGATE'];
  cpu: string;
  memory: string;
  runtimePlatform: { cpuArchitecture: 'X86_64' | 'ARM64'; operatingSystemFamily: 'LINUX' };
  containerDefinitions: ContainerDefinitionShape[];
  volumes: (
    | { name: string }
    | {
        name: string;
        efsVolumeConfiguration: {
          fileSystemId: string;
          rootDirectory: '/';
          transitEncryption: 'ENABLED';
          authorizationConfig: { accessPointId: string; iam: 'ENABLED' };
        };
      }
  )[];
  ephemeralStorage?: { sizeInGiB: number };
  tags: { key: string; value: string }[];
}

/** ~75 % of the container's memory for the V8 heap (OpenClaw's own manifests use 1536 of 2048). */
export function nodeHeapMiB(memoryMiB: number): number {
  return Math.floor((memoryMiB * 0.75) / 64) * 64;
}

/**
 * Health probe run inside the gateway container by ECS. OpenClaw's unknown paths can return 200
 * from the Control UI catch-all, so the probe parses the body and requires ok === true.
 */
export const HEALTH_CHECK_SCRIPT =
  `fetch('http://127.0.0.1:${GATEWAY_PORT}/healthz').then(r=>r.json()).then(b=>process.exit(b&&b.ok===true?0:1)).catch(()=>process.exit(1))`;

/** The init container's shell: write, chmod, then chown (CAP_CHOWN is its only capability). */
export function configInitScript(uid: number, gid: number): string {
  const owner = `${uid}:${gid}`;
  return [
    'umask 077',
    `printf '%s' "$OPENCLAW_CONFIG_JSON" > ${CONFIG_FILE}`,
    `chmod 0400 ${CONFIG_FILE}`,
    `chown ${owner} ${CONFIG_FILE}`,
    `chmod 0500 ${CONFIG_DIR}`,
    `chown ${owner} ${CONFIG_DIR}`,
    `chmod 0700 ${INIT_TMP_MOUNT}`,
    `chown ${owner} ${INIT_TMP_MOUNT}`,
  ].join(' && ');
}

const OPERATOR_PAIRING_DELAY_S = 20;
const GATEWAY_ARGV = ['node', OPENCLAW_ENTRY, 'gateway', '--bind', 'lan', '--port', String(GATEWAY_PORT)];

/**
 * How the gateway container starts [ingress-ops]: the gateway itself, or (operatorPairing) a shell
 * that starts the operator-device pairing script in the background and then execs the gateway
 * (same process, so signals and the exit code are the gateway's).
 */
export function gatewayStart(operatorPairing: boolean): { entryPoint?: string[]; command: string[]; environment: KeyValue[] } {
  if (!operatorPairing) return { command: [...GATEWAY_ARGV], environment: [] };
  return {
    entryPoint: ['/bin/sh', '-c'],
    // The script starts 20 s after the gateway: its own Node start-up then does not compete with the gateway's.
    command: [`(sleep ${OPERATOR_PAIRING_DELAY_S} && exec node -e "$${OPERATOR_PAIRING_SCRIPT_ENV}") & exec ${GATEWAY_ARGV.join(' ')}`],
    environment: [{ name: OPERATOR_PAIRING_SCRIPT_ENV, value: OPERATOR_PAIRING_SCRIPT }],
  };
}

const POSIX_ID = (n: number) => Number.isInteger(n) && n > 0 && n < 2 ** 31;

export function renderTaskDefinition(input: TaskDefinitionInput): TaskDefinitionShape {
  const { tenantId, plan } = input;
  const { uid, gid } = input.posixUser;
  // uid 0 would run the gateway as root; the platform allocates uids from uidBase upwards.
  if (!POSIX_ID(uid) || !POSIX_ID(gid)) throw new RangeError(`posixUser ${uid}:${gid} must be non-root integer ids`);
  const logOptions = (prefix: string) => ({
    'awslogs-group': input.logGroupName,
    'awslogs-region': input.region,
    'awslogs-stream-prefix': prefix,
    mode: 'non-blocking',
    'max-buffer-size': '4m',
  });
  const dropAll = { capabilities: { drop: ['ALL'], add: [] }, initProcessEnabled: true };
  const start = gatewayStart(input.operatorPairing === true);

  const init: ContainerDefinitionShape = {
    name: CONFIG_INIT_CONTAINER,
    image: plan.image,
    essential: false,
    entryPoint: ['/bin/sh', '-c'],
    command: [configInitScript(uid, gid)],
    user: '0:0',
    readonlyRootFilesystem: true,
    privileged: false,
    linuxParameters: { capabilities: { drop: ['ALL'], add: ['CHOWN'] }, initProcessEnabled: true },
    environment: [{ name: 'OPENCLAW_CONFIG_JSON', value: input.openclawConfigJson }],
    mountPoints: [
      { sourceVolume: 'config', containerPath: CONFIG_DIR, readOnly: false },
      { sourceVolume: 'tmp', containerPath: INIT_TMP_MOUNT, readOnly: false },
    ],
    logConfiguration: { logDriver: 'awslogs', options: logOptions('init') },
  };

  const gateway: ContainerDefinitionShape = {
    name: GATEWAY_CONTAINER,
    image: plan.image,
    essential: true,
    workingDirectory: APP_DIR,
    ...(start.entryPoint ? { entryPoint: start.entryPoint } : {}),
    command: start.command,
    user: `${uid}:${gid}`,
    readonlyRootFilesystem: true,
    privileged: false,
    linuxParameters: dropAll,
    environment: [
      { name: 'NODE_OPTIONS', value: `--max-old-space-size=${nodeHeapMiB(plan.memoryMiB)}` },
      { name: 'OPENCLAW_CONFIG_PATH', value: CONFIG_FILE },
      { name: 'OPENCLAW_STATE_DIR', value: STATE_DIR },
      { name: 'OPENCLAW_DISABLE_BONJOUR', value: '1' },
      { name: 'OPENCLAW_NO_AUTO_UPDATE', value: '1' },
      { name: 'AWS_REGION', value: input.region },
      // The auth-profile key lives under ~/.config/openclaw; keep it on the tenant's own volume.
      { name: 'XDG_CONFIG_HOME', value: `${STATE_DIR}/.config` },
      { name: 'XDG_CACHE_HOME', value: CACHE_DIR },
      ...egressProxyEnv(plan, input).environment,
      ...credentialGenerationsEnv(input),
      ...start.environment,
    ],
    secrets: [
      { name: GATEWAY_TOKEN_ENV, valueFrom: input.secretArn },
      ...egressProxyEnv(plan, input).secrets,
      ...modelKeySecrets(input),
      // Channel credentials (contract 2, owner: channels): by reference, never a value in the definition.
      ...channelSecretEnv(input.channels ?? []),
    ],
    mountPoints: [
      { sourceVolume: 'state', containerPath: STATE_DIR, readOnly: false },
      { sourceVolume: 'config', containerPath: CONFIG_DIR, readOnly: true },
      { sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false },
    ],
    portMappings: [{ containerPort: GATEWAY_PORT, protocol: 'tcp', name: 'gateway' }],
    dependsOn: [
      { containerName: CONFIG_INIT_CONTAINER, condition: 'SUCCESS' },
      { containerName: PLUGIN_INIT_CONTAINER, condition: 'SUCCESS' },
    ],
    healthCheck: {
      command: ['CMD', 'node', '-e', HEALTH_CHECK_SCRIPT],
      interval: 15,
      timeout: 5,
      retries: 3,
      startPeriod: 60,
    },
    logConfiguration: { logDriver: 'awslogs', options: logOptions('gateway') },
    stopTimeout: 30,
  };

  return {
    family: names.taskFamily({ cell: input.cell, tenantId }),
    taskRoleArn: input.taskRoleArn,
    executionRoleArn: input.executionRoleArn,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: String(plan.cpu),
    memory: String(plan.memoryMiB),
    runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
    containerDefinitions: [init, pluginInitContainer(input, logOptions('plugin-init')), gateway],
    volumes: [
      {
        name: 'state',
        efsVolumeConfiguration: {
          fileSystemId: input.fileSystemId,
          rootDirectory: '/',
          transitEncryption: 'ENABLED',
          authorizationConfig: { accessPointId: input.accessPointId, iam: 'ENABLED' },
        },
      },
      { name: 'config' },
      { name: 'tmp' },
    ],
    tags: [...tenantTags(tenantId, input.cell), { key: 'octw:config-hash', value: input.configHash }],
  };
}

/** [egress-wire] The egress proxy's variables (contract 2): the URL with the tenant's credential only as ECS secrets. */
function egressProxyEnv(plan: Plan, input: Pick<TaskDefinitionInput, 'proxySecretArn'>): ReturnType<typeof proxyContainerEnv> {
  return input.proxySecretArn ? proxyContainerEnv(plan, input.proxySecretArn) : { secrets: [], environment: [] };
}

/**
 * [plugins, contract 4] The container that declares the image's packaged plugins installed in the
 * tenant's state directory before the gateway starts (functions/domain/plugin-install-records.ts):
 * exactly the packaged plugins of the tenant's rendered `plugins.allow` (plan + channels), as the
 * tenant's uid/gid on its EFS access point, every capability dropped, read-only root, no secret.
 */
export function pluginInitContainer(
  input: Pick<TaskDefinitionInput, 'plan' | 'channels' | 'posixUser'>,
  logOptions: Record<string, string>,
): ContainerDefinitionShape {
  const { allow } = renderChannelsPart(input.channels ?? [], input.plan).plugins;
  return {
    name: PLUGIN_INIT_CONTAINER,
    image: input.plan.image,
    essential: false,
    entryPoint: ['/bin/sh', '-c'],
    command: [pluginInitScript(STATE_DIR, packagedPluginInstalls(allow))],
    user: `${input.posixUser.uid}:${input.posixUser.gid}`,
    readonlyRootFilesystem: true,
    privileged: false,
    linuxParameters: { capabilities: { drop: ['ALL'], add: [] }, initProcessEnabled: true },
    environment: [],
    mountPoints: [{ sourceVolume: 'state', containerPath: STATE_DIR, readOnly: false }],
    logConfiguration: { logDriver: 'awslogs', options: logOptions },
  };
}
