/**
 * Install records of the image's packaged plugins (functions/domain/plugin-install-records.ts): which
 * plugins are declared, the managed npm root the plugin-init container writes (the script is run
 * here with /bin/sh against a temporary state directory), and the container in the task definition.
 * That OpenClaw trusts what it writes is proven with the real release: conformance/tests/channels.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TenantChannel } from '../../../functions/domain/channels';
import { renderOpenClawConfig } from '../../../functions/domain/openclaw-config';
import { OPENCLAW_RELEASE } from '../../../functions/domain/openclaw-release';
import { PLUGIN_INIT_CONTAINER, packagedPluginInstalls, pluginInitScript } from '../../../functions/domain/plugin-install-records';
import { renderTaskDefinition, STATE_DIR, type TaskDefinitionInput } from '../../../functions/domain/task-definition';
import { PlanCatalogueSchema, type Plan } from '../../../functions/domain/tenant';
import { LOCAL_PLANS } from '../../local-cloud/env';

const base = LOCAL_PLANS.find((p) => p.id === 'offline')!;
const plan: Plan = PlanCatalogueSchema.parse([{ ...base, channels: ['telegram', 'slack', 'discord'] }])[0]!;
const arn = (n: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:octw/tenants/local/t1/credentials/${n}-AbCdEf`;
const SLACK: TenantChannel = { type: 'slack', settings: { allowFrom: [], channels: [] }, credentials: { appToken: { secretArn: arn('a') }, botToken: { secretArn: arn('b') } } };
const DISCORD: TenantChannel = { type: 'discord', settings: { allowFrom: [], guilds: [] }, credentials: { token: { secretArn: arn('c') } } };
const TELEGRAM: TenantChannel = { type: 'telegram', settings: { allowFrom: [], groups: [] }, credentials: { botToken: { secretArn: arn('d') } } };

const tdInput = (channels: TenantChannel[]): TaskDefinitionInput => ({
  tenantId: 't1', cell: 'local', plan, region: 'us-east-1', fileSystemId: 'fs-1', accessPointId: 'fsap-1', posixUser: { uid: 100_001, gid: 100_002 },
  taskRoleArn: 'r', executionRoleArn: 'e', secretArn: 's', logGroupName: 'l', openclawConfigJson: '{}', configHash: 'h', channels,
});
const pluginInit = (channels: TenantChannel[]) => renderTaskDefinition(tdInput(channels)).containerDefinitions.find((c) => c.name === PLUGIN_INIT_CONTAINER)!;

/** Runs the container's script with `stateDir` in place of the EFS mount; returns the state dir. */
function runScript(script: string, stateDir: string): void {
  execFileSync('/bin/sh', ['-c', script.split(STATE_DIR).join(stateDir)]);
}

describe('packagedPluginInstalls', () => {
  it('declares only the image packages of the allow list (packaged, and the optional Bedrock provider), at the release version and the image copy', () => {
    expect(packagedPluginInstalls(['memory-core', 'telegram', 'slack', 'amazon-bedrock', 'discord'])).toEqual([
      { pluginId: 'slack', packageName: '@openclaw/slack', version: OPENCLAW_RELEASE, imagePath: '/app/node_modules/@openclaw/slack' },
      { pluginId: 'amazon-bedrock', packageName: '@openclaw/amazon-bedrock-provider', version: OPENCLAW_RELEASE, imagePath: '/app/node_modules/@openclaw/amazon-bedrock-provider' },
      { pluginId: 'discord', packageName: '@openclaw/discord', version: OPENCLAW_RELEASE, imagePath: '/app/node_modules/@openclaw/discord' },
    ]);
    expect(packagedPluginInstalls(['memory-core', 'telegram'])).toEqual([]);
  });

  it('declares exactly the image paths the rendered config selects in plugins.load.paths (a plan without Bedrock)', () => {
    const cfg = renderOpenClawConfig({ tenantId: 't1', plan, region: 'us-east-1', channels: [SLACK, DISCORD, TELEGRAM] });
    expect(plan.plugins).not.toContain('amazon-bedrock');
    expect(packagedPluginInstalls(cfg.plugins.allow).map((i) => i.imagePath).sort()).toEqual([...(cfg.plugins.load?.paths ?? [])].sort());
  });
});

describe('pluginInitScript, run with /bin/sh', () => {
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'octw-plugin-init-'));
  });

  it("writes OpenClaw's managed npm root: package.json naming each package at the release, node_modules/<package> -> the image copy", () => {
    runScript(pluginInitScript(STATE_DIR, packagedPluginInstalls(['slack', 'discord'])), state);
    expect(JSON.parse(readFileSync(join(state, 'npm', 'package.json'), 'utf8'))).toEqual({
      name: 'octw-image-plugins',
      private: true,
      dependencies: { '@openclaw/slack': OPENCLAW_RELEASE, '@openclaw/discord': OPENCLAW_RELEASE },
    });
    for (const p of ['slack', 'discord']) {
      const link = join(state, 'npm', 'node_modules', '@openclaw', p);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(`/app/node_modules/@openclaw/${p}`);
    }
    expect(readdirSync(join(state, 'npm', 'node_modules', '@openclaw')).sort()).toEqual(['discord', 'slack']);
  });

  it('replaces whatever the root held: a record planted in the state dir does not survive the next start', () => {
    mkdirSync(join(state, 'npm', 'node_modules', '@openclaw', 'evil'), { recursive: true });
    writeFileSync(join(state, 'npm', 'package.json'), JSON.stringify({ dependencies: { '@openclaw/evil': '1.0.0', '@openclaw/slack': '0.0.1' } }));
    runScript(pluginInitScript(STATE_DIR, packagedPluginInstalls(['slack'])), state);
    expect((JSON.parse(readFileSync(join(state, 'npm', 'package.json'), 'utf8')) as { dependencies: unknown }).dependencies).toEqual({ '@openclaw/slack': OPENCLAW_RELEASE });
    expect(readdirSync(join(state, 'npm', 'node_modules', '@openclaw'))).toEqual(['slack']);
  });

  it('removes the root when the tenant has no packaged plugin (a removed channel keeps no record); runs twice the same', () => {
    runScript(pluginInitScript(STATE_DIR, packagedPluginInstalls(['slack'])), state);
    runScript(pluginInitScript(STATE_DIR, packagedPluginInstalls(['telegram'])), state);
    expect(existsSync(join(state, 'npm'))).toBe(false);
    runScript(pluginInitScript(STATE_DIR, packagedPluginInstalls(['telegram'])), state);
    expect(existsSync(join(state, 'npm'))).toBe(false);
  });

  it('fails (exit non-zero) when it cannot write, so the gateway does not start without its records', () => {
    expect(() => execFileSync('/bin/sh', ['-c', pluginInitScript('/proc/octw-no-such-state', packagedPluginInstalls(['slack']))], { stdio: 'ignore' })).toThrow();
  });
});

describe('the plugin-init container of the task definition', () => {
  it("runs the script for the tenant's channels as the tenant's uid/gid on its state volume, no capability, read-only root, no secret", () => {
    const c = pluginInit([SLACK, TELEGRAM]);
    expect(c).toMatchObject({
      essential: false,
      user: '100001:100002',
      readonlyRootFilesystem: true,
      privileged: false,
      linuxParameters: { capabilities: { drop: ['ALL'], add: [] } },
      mountPoints: [{ sourceVolume: 'state', containerPath: STATE_DIR, readOnly: false }],
      environment: [],
    });
    expect(c.secrets).toBeUndefined();
    expect(c.command).toEqual([pluginInitScript(STATE_DIR, packagedPluginInstalls(['slack']))]);
  });

  it('declares Discord and Slack when the tenant has both, nothing for Telegram alone (bundled)', () => {
    expect(pluginInit([DISCORD, SLACK]).command?.[0]).toContain("ln -s '/app/node_modules/@openclaw/discord'");
    expect(pluginInit([DISCORD, SLACK]).command?.[0]).toContain("ln -s '/app/node_modules/@openclaw/slack'");
    expect(pluginInit([TELEGRAM]).command?.[0]).not.toContain('ln -s');
  });

  it('must succeed before the gateway starts', () => {
    const gw = renderTaskDefinition(tdInput([SLACK])).containerDefinitions.find((c) => c.name === 'gateway')!;
    expect(gw.dependsOn).toContainEqual({ containerName: PLUGIN_INIT_CONTAINER, condition: 'SUCCESS' });
  });
});
