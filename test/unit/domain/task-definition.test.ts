import { nodeHeapMiB, renderTaskDefinition, HEALTH_CHECK_SCRIPT, CONFIG_FILE, STATE_DIR } from '../../../functions/domain/task-definition';
import type { Plan } from '../../../functions/domain/tenant';

const plan: Plan = {
  id: 'standard',
  cpu: 1024,
  memoryMiB: 4096,
  image: `ghcr.io/openclaw/openclaw@sha256:${'a'.repeat(64)}`,
  bedrockModels: [],
  maxAllowlistRules: 10,
  spot: false,
};

const td = renderTaskDefinition({
  tenantId: 'acme-robotics',
  cell: 'c1',
  plan,
  region: 'eu-west-1',
  fileSystemId: 'fs-0123',
  accessPointId: 'fsap-0abc',
  taskRoleArn: 'arn:aws:iam::111122223333:role/octw/tenants/octw-c1--acme-robotics',
  executionRoleArn: 'arn:aws:iam::111122223333:role/exec',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:octw/tenants/acme-robotics/gateway-token-AbCdEf',
  logGroupName: '/octw/tenants/acme-robotics',
  openclawConfigJson: '{"gateway":{}}',
  configHash: 'abc123',
});
const gateway = td.containerDefinitions.find((c) => c.name === 'gateway')!;
const init = td.containerDefinitions.find((c) => c.name === 'config-init')!;

describe('renderTaskDefinition', () => {
  it('names the family after the cell and the tenant and uses the tenant role', () => {
    expect(td.family).toBe('octw-c1--acme-robotics');
    expect(td.taskRoleArn).toContain('/octw/tenants/');
    expect(td.networkMode).toBe('awsvpc');
  });

  it('runs the gateway as uid 1000 with a read-only root, no capabilities, an init process and no privilege', () => {
    expect(gateway.user).toBe('1000:1000');
    expect(gateway.readonlyRootFilesystem).toBe(true);
    expect(gateway.privileged).toBe(false);
    expect(gateway.linuxParameters.capabilities.drop).toEqual(['ALL']);
    expect(gateway.linuxParameters.capabilities.add).toEqual([]);
    expect(gateway.linuxParameters.initProcessEnabled).toBe(true);
  });

  it('starts the gateway bound to the LAN on 18789 with the pinned image', () => {
    expect(gateway.command).toEqual(['node', 'dist/index.js', 'gateway', '--bind', 'lan', '--port', '18789']);
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

  it('delivers the config through an init container the gateway waits for, and points OPENCLAW_CONFIG_PATH at it', () => {
    expect(init.essential).toBe(false);
    expect(init.readonlyRootFilesystem).toBe(true);
    expect(init.linuxParameters.capabilities.drop).toEqual(['ALL']);
    expect(init.secrets).toBeUndefined();
    expect(gateway.dependsOn).toEqual([{ containerName: 'config-init', condition: 'SUCCESS' }]);
    expect(gateway.environment).toContainEqual({ name: 'OPENCLAW_CONFIG_PATH', value: CONFIG_FILE });
    expect(init.environment).toContainEqual({ name: 'OPENCLAW_CONFIG_JSON', value: '{"gateway":{}}' });
  });

  it('injects the token only through ECS secrets, never as plain environment', () => {
    expect(gateway.secrets).toEqual([{ name: 'OPENCLAW_GATEWAY_TOKEN', valueFrom: expect.stringContaining(':secret:octw/tenants/acme-robotics/') }]);
    expect(gateway.environment.map((e) => e.name)).not.toContain('OPENCLAW_GATEWAY_TOKEN');
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
