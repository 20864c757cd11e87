import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CACHE_DIR,
  configInitScript,
  nodeHeapMiB,
  renderTaskDefinition,
  HEALTH_CHECK_SCRIPT,
  CONFIG_FILE,
  STATE_DIR,
  type TaskDefinitionInput,
} from '../../../functions/domain/task-definition';
import type { Plan } from '../../../functions/domain/tenant';

const plan: Plan = {
  id: 'standard',
  cpu: 1024,
  memoryMiB: 4096,
  image: `ghcr.io/openclaw/openclaw@sha256:${'a'.repeat(64)}`,
  bedrockModels: ['anthropic.claude-x-v1:0'],
  modelProviders: [
    {
      id: 'router',
      baseUrl: 'https://router.example/v1',
      api: 'openai-completions',
      apiKey: 'tenant',
      models: [{ id: 'm1', name: 'M1' }],
    },
  ],
  plugins: ['amazon-bedrock', 'memory-core'],
  maxAllowlistRules: 10,
  spot: false,
};

/** The tenant's own key for the plan's "router" provider: a credential under its own prefix. */
const TENANT_KEY = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:octw/tenants/c1/acme-robotics/credentials/router-key-AbCdEf';

const input: TaskDefinitionInput = {
  tenantId: 'acme-robotics',
  cell: 'c1',
  plan,
  region: 'eu-west-1',
  fileSystemId: 'fs-0123',
  accessPointId: 'fsap-0abc',
  posixUser: { uid: 200007, gid: 200007 },
  taskRoleArn: 'arn:aws:iam::111122223333:role/octw/tenants/octw-c1--acme-robotics',
  executionRoleArn: 'arn:aws:iam::111122223333:role/exec',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:octw/tenants/acme-robotics/gateway-token-AbCdEf',
  logGroupName: '/octw/tenants/acme-robotics',
  openclawConfigJson: '{"gateway":{}}',
  modelKeySecrets: [{ provider: 'router', secretArn: TENANT_KEY }],
  configHash: 'abc123',
};
const td = renderTaskDefinition(input);
const gateway = td.containerDefinitions.find((c) => c.name === 'gateway')!;
const init = td.containerDefinitions.find((c) => c.name === 'config-init')!;

describe('renderTaskDefinition', () => {
  it('names the family after the cell and the tenant and uses the tenant role', () => {
    expect(td.family).toBe('octw-c1--acme-robotics');
    expect(td.taskRoleArn).toContain('/octw/tenants/');
    expect(td.networkMode).toBe('awsvpc');
  });

  it("runs the gateway as the access point's uid/gid (not the image's 1000) with a read-only root, no capabilities, an init process and no privilege", () => {
    expect(gateway.user).toBe('200007:200007');
    expect(gateway.readonlyRootFilesystem).toBe(true);
    expect(gateway.privileged).toBe(false);
    expect(gateway.linuxParameters.capabilities.drop).toEqual(['ALL']);
    expect(gateway.linuxParameters.capabilities.add).toEqual([]);
    expect(gateway.linuxParameters.initProcessEnabled).toBe(true);
  });

  it('refuses a root or non-integer posix user', () => {
    expect(() => renderTaskDefinition({ ...input, posixUser: { uid: 0, gid: 0 } })).toThrow(RangeError);
    expect(() => renderTaskDefinition({ ...input, posixUser: { uid: 1.5, gid: 2 } })).toThrow(RangeError);
  });

  it('starts the gateway from the image package set (/app) bound to the LAN on 18789 with the pinned image', () => {
    expect(gateway.workingDirectory).toBe('/app');
    expect(gateway.command).toEqual(['node', 'node_modules/openclaw/openclaw.mjs', 'gateway', '--bind', 'lan', '--port', '18789']);
    expect(gateway.image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('mounts the EFS access point with TLS and IAM at the state dir, config read-only and a task-local /tmp', () => {
    const state = td.volumes.find((v) => v.name === 'state');
    expect(state).toEqual({
      name: 'state',
      efsVolumeConfiguration: {
        fileSystemId: 'fs-0123',
        rootDirectory: '/',
        transitEncryption: 'ENABLED',
        authorizationConfig: { accessPointId: 'fsap-0abc', iam: 'ENABLED' },
      },
    });
    expect(gateway.mountPoints).toEqual(
      expect.arrayContaining([
        { sourceVolume: 'state', containerPath: STATE_DIR, readOnly: false },
        { sourceVolume: 'config', containerPath: '/octw/config', readOnly: true },
        { sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false },
      ]),
    );
    expect(gateway.mountPoints.filter((m) => !m.readOnly).map((m) => m.containerPath).sort()).toEqual(['/home/node/.openclaw', '/tmp']);
  });

  it('puts the cache on task-local /tmp, not on EFS (without a writable cache OpenClaw exits 78)', () => {
    expect(gateway.environment).toContainEqual({ name: 'XDG_CACHE_HOME', value: CACHE_DIR });
    expect(CACHE_DIR.startsWith('/tmp/')).toBe(true);
  });

  it('delivers the config through an init container the gateway waits for, and points OPENCLAW_CONFIG_PATH at it', () => {
    expect(init.essential).toBe(false);
    expect(init.readonlyRootFilesystem).toBe(true);
    expect(init.user).toBe('0:0');
    expect(init.linuxParameters.capabilities).toEqual({ drop: ['ALL'], add: ['CHOWN'] });
    expect(init.secrets).toBeUndefined();
    expect(gateway.dependsOn).toEqual([{ containerName: 'config-init', condition: 'SUCCESS' }, { containerName: 'plugin-init', condition: 'SUCCESS' }]);
    expect(gateway.environment).toContainEqual({ name: 'OPENCLAW_CONFIG_PATH', value: CONFIG_FILE });
    expect(init.environment).toContainEqual({ name: 'OPENCLAW_CONFIG_JSON', value: '{"gateway":{}}' });
  });

  it('has the init container write the config 0400 and chmod before it chowns it to the gateway uid', () => {
    const cmd = init.command?.join(' ') ?? '';
    expect(cmd).toBe(configInitScript(200007, 200007));
    const chmod = cmd.indexOf(`chmod 0400 ${CONFIG_FILE}`);
    const chown = cmd.indexOf(`chown 200007:200007 ${CONFIG_FILE}`);
    expect(chmod).toBeGreaterThan(-1);
    expect(chown).toBeGreaterThan(chmod);
    expect(cmd).not.toMatch(/0444|0644|1777/);
  });

  it("runs the init script as written: the file holds the config, mode 0400, owner the gateway's uid (needs root for chown)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'octw-init-'));
    const script = configInitScript(200007, 200008).replaceAll('/octw/config', join(dir, 'config')).replaceAll('/octw/tmp', join(dir, 'tmp'));
    execFileSync('mkdir', [join(dir, 'config'), join(dir, 'tmp')]);
    if (process.getuid?.() !== 0) return; // chown needs CAP_CHOWN; the conformance suite runs it with exactly that
    execFileSync('/bin/sh', ['-c', script], { env: { OPENCLAW_CONFIG_JSON: '{"a":1}' } });
    const st = statSync(join(dir, 'config', 'openclaw.json'));
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o400, 200007, 200008]);
    expect(readFileSync(join(dir, 'config', 'openclaw.json'), 'utf8')).toBe('{"a":1}');
    expect(statSync(join(dir, 'tmp')).uid).toBe(200007);
  });

  it('injects the token and model-provider keys only through ECS secrets, never as plain environment', () => {
    expect(gateway.secrets).toEqual([
      { name: 'OPENCLAW_GATEWAY_TOKEN', valueFrom: expect.stringContaining(':secret:octw/tenants/acme-robotics/') },
      { name: 'OCTW_MODEL_ROUTER_API_KEY', valueFrom: TENANT_KEY },
    ]);
    expect(gateway.environment.map((e) => e.name)).not.toContain('OPENCLAW_GATEWAY_TOKEN');
    expect(gateway.environment.map((e) => e.name)).not.toContain('OCTW_MODEL_ROUTER_API_KEY');
  });

  it('injects a provider key only for a provider of the plan that takes a tenant key', () => {
    expect(() => renderTaskDefinition({ ...input, modelKeySecrets: [{ provider: 'unknown', secretArn: TENANT_KEY }] })).toThrow(/takes no tenant key/);
    const noKeyPlan = { ...plan, modelProviders: plan.modelProviders.map((p) => ({ ...p, apiKey: 'none' as const })) };
    expect(() => renderTaskDefinition({ ...input, plan: noKeyPlan })).toThrow(/takes no tenant key/);
    const none = renderTaskDefinition({ ...input, modelKeySecrets: [] }).containerDefinitions.find((c) => c.name === 'gateway')!;
    expect(none.secrets?.map((x) => x.name)).toEqual(['OPENCLAW_GATEWAY_TOKEN']);
  });

  it('sizes NODE_OPTIONS to about 75 % of the plan memory', () => {
    expect(gateway.environment).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=3072' });
    expect(nodeHeapMiB(2048)).toBe(1536);
  });

  it('health-checks /healthz and requires ok:true in the body', () => {
    expect(gateway.healthCheck?.command.join(' ')).toContain('/healthz');
    expect(HEALTH_CHECK_SCRIPT).toContain('b.ok===true');
  });

  it('logs both containers to the tenant log group', () => {
    for (const c of td.containerDefinitions) {
      expect(c.logConfiguration.options['awslogs-group']).toBe('/octw/tenants/acme-robotics');
    }
  });

  it('tags the revision with the tenant and its config hash', () => {
    expect(td.tags).toEqual(expect.arrayContaining([{ key: 'octw:tenant', value: 'acme-robotics' }, { key: 'octw:config-hash', value: 'abc123' }]));
  });
});
