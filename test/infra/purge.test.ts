/**
 * Intent of the purge infrastructure: the only control-plane function with a path into tenant data
 * (root on /tenants) must be fenced in: its own access point, root granted only there, a VPC
 * security group with three egress rules, read-only table access, and a scheduled sweep.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { HANDLERS, type HandlerKey } from '../../functions/handlers/catalogue';
import { parseConfig } from '../../infra/config';
import { TENANTS_MOUNT_PATH } from '../../infra/constructs/purge';
import { type CfnStatement, allStatements, asArray, cdkJsonContext, functionStatements, REPO_ROOT, synthPlatform } from './synth';

const { template, synthError } = synthPlatform();
const config = parseConfig(cdkJsonContext());
const resources = <T = Record<string, unknown>>(type: string) =>
  Object.entries(template.findResources(type)).map(([id, r]) => ({ id, props: (r as { Properties: T }).Properties }));
const json = (v: unknown) => JSON.stringify(v);
const actionsOf = (s: CfnStatement) => asArray(s.Action);

interface FunctionProps {
  FunctionName: string;
  VpcConfig?: { SecurityGroupIds: unknown[]; SubnetIds: unknown[] };
  FileSystemConfigs?: { Arn: unknown; LocalMountPath: string }[];
  Environment: { Variables: Record<string, unknown> };
}
const functions = resources<FunctionProps>('AWS::Lambda::Function').filter(
  ({ props }) => typeof props.FunctionName === 'string' && props.FunctionName.startsWith(config.prefix),
);
const purgeFn = functions.find(({ props }) => props.FunctionName === `${config.prefix}-purge`);
const accessPoints = resources<{ PosixUser?: { Uid: string; Gid: string }; RootDirectory?: { Path: string } }>('AWS::EFS::AccessPoint');
const purgeAccessPoint = accessPoints.find(({ id }) => id.includes('PurgeAccessPoint'));
// The Usage function (issue 8, EFS quotas) has its own root access point on /tenants, mounted read-only.
const usageFn = functions.find(({ props }) => props.FunctionName === `${config.prefix}-usage`);
const usageAccessPoint = accessPoints.find(({ id }) => id.includes('UsageAccessPoint'));
// Issue 13.4: the Restore function has its own root access point on the file system's root "/".
const restoreFn = functions.find(({ props }) => props.FunctionName === `${config.prefix}-restore`);
const restoreAccessPoint = accessPoints.find(({ id }) => id.includes('RestoreAccessPoint'));
const purgeSecurityGroupId = purgeFn?.props.VpcConfig?.SecurityGroupIds[0];

describe('purge infrastructure', () => {
  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(synthError?.message).toBeUndefined();
  });

  it('gives the platform three access points: Purge\'s and Usage\'s rooted at /tenants, Restore\'s at /, each with POSIX uid/gid 0', () => {
    expect(accessPoints).toHaveLength(3);
    expect(restoreAccessPoint?.props.RootDirectory?.Path).toBe('/');
    expect(restoreAccessPoint?.props.PosixUser).toEqual({ Uid: '0', Gid: '0' });
    expect(usageAccessPoint?.props.RootDirectory?.Path).toBe('/tenants');
    expect(usageAccessPoint?.props.PosixUser).toEqual({ Uid: '0', Gid: '0' });
    expect(purgeAccessPoint?.props.RootDirectory?.Path).toBe('/tenants');
    expect(purgeAccessPoint?.props.PosixUser).toEqual({ Uid: '0', Gid: '0' });
  });

  it('runs the Purge function in the private subnets with that access point mounted at TENANTS_MOUNT_PATH', () => {
    expect(purgeFn?.props.VpcConfig?.SubnetIds.length).toBe(config.azCount);
    expect(json(purgeFn?.props.VpcConfig?.SubnetIds)).toMatch(/Tasks/);
    expect(purgeFn?.props.FileSystemConfigs).toHaveLength(1);
    expect(purgeFn?.props.FileSystemConfigs?.[0]?.LocalMountPath).toBe(TENANTS_MOUNT_PATH);
    expect(json(purgeFn?.props.FileSystemConfigs?.[0]?.Arn)).toContain(purgeAccessPoint!.id);
    expect(purgeFn?.props.Environment.Variables.TENANTS_MOUNT_PATH).toBe(TENANTS_MOUNT_PATH);
    expect(json(purgeFn?.props.Environment.Variables.PURGE_STATE_MACHINE_ARN)).toContain(`:stateMachine:${config.prefix}-purge-tenant`);
  });

  it('keeps every other function out of the VPC and away from EFS', () => {
    for (const { props } of functions.filter((f) => f !== purgeFn && f !== usageFn && f !== restoreFn)) {
      expect({ fn: props.FunctionName, vpc: props.VpcConfig, fs: props.FileSystemConfigs }).toEqual({ fn: props.FunctionName, vpc: undefined, fs: undefined });
    }
  });

  it('grants ClientRootAccess only to the Purge, Restore and Usage roles, each only with the condition naming its own access point', () => {
    const rootGrants = allStatements(template).filter(({ statement }) => statement.Effect === 'Allow' && actionsOf(statement).some((a) => a === 'elasticfilesystem:ClientRootAccess' || a === 'elasticfilesystem:*'));
    expect(rootGrants.map((g) => g.logicalId.replace(/[A-F0-9]{8}$/, '')).sort()).toEqual(['PurgeFunctionPolicy', 'RestoreFunctionPolicy', 'UsageFunctionPolicy']);
    for (const { statement, logicalId } of rootGrants) {
      const own = logicalId.startsWith('Purge') ? purgeAccessPoint! : logicalId.startsWith('Restore') ? restoreAccessPoint! : usageAccessPoint!;
      expect(statement.Condition?.StringEquals?.['elasticfilesystem:AccessPointArn']).toBeDefined();
      expect(json(statement.Condition?.StringEquals?.['elasticfilesystem:AccessPointArn'])).toContain(own.id);
    }
  });

  it('scopes every EFS client action of the Purge role to its access point (none without the condition)', () => {
    const efs = functionStatements(template, 'Purge').filter((s) => actionsOf(s).some((a) => a.startsWith('elasticfilesystem:')));
    expect(efs.flatMap(actionsOf).sort()).toEqual(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientRootAccess', 'elasticfilesystem:ClientWrite']);
    for (const s of efs) expect(json(s.Condition?.StringEquals?.['elasticfilesystem:AccessPointArn'])).toContain(purgeAccessPoint!.id);
  });

  it('lets the Purge role read the table and start purge runs, but never write records or publish events', () => {
    const actions = functionStatements(template, 'Purge').flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(actions.filter((a) => a.startsWith('states:'))).toEqual(['states:StartExecution']);
    expect(actions.filter((a) => a.startsWith('events:'))).toEqual([]);
    const start = functionStatements(template, 'Purge').find((s) => actionsOf(s).includes('states:StartExecution'));
    expect(json(start?.Resource)).toContain(`:stateMachine:${config.prefix}-purge-tenant`);
  });

  it('leaves the file-system policy generic: no statement names the Purge role or grants ClientRootAccess', () => {
    const [fs] = resources<{ FileSystemPolicy: { Statement: CfnStatement[] } }>('AWS::EFS::FileSystem');
    for (const s of fs?.props.FileSystemPolicy.Statement ?? []) {
      expect(json(s.Principal)).not.toContain('Purge');
      if (s.Effect === 'Allow') expect(actionsOf(s)).not.toContain('elasticfilesystem:ClientRootAccess');
    }
  });

  it('lets the Purge security group out only to EFS on 2049, the endpoints on 443 and the DynamoDB prefix list on 443', () => {
    const egress = resources<Record<string, unknown>>('AWS::EC2::SecurityGroupEgress').filter(({ props }) => json(props.GroupId) === json(purgeSecurityGroupId));
    const described = egress
      .map(({ props }) => `${String(props.FromPort)}-${String(props.ToPort)} ${json(props.DestinationSecurityGroupId ?? props.DestinationPrefixListId ?? props.CidrIp)}`)
      .sort();
    // Sorted: "...NetworkEndpoints..." sorts before "...PurgeDynamoDbPrefixList...".
    expect(described).toEqual([
      expect.stringMatching(/^2049-2049 .*NetworkEfsSecurityGroup/),
      expect.stringMatching(/^443-443 .*NetworkEndpointsSecurityGroup/),
      expect.stringMatching(/^443-443 .*DynamoDbPrefixList.*PrefixLists\.0\.PrefixListId/),
    ]);
    expect(egress).toHaveLength(3);
    const [sg] = resources<{ SecurityGroupEgress?: unknown[] }>('AWS::EC2::SecurityGroup').filter(({ id }) => json(purgeSecurityGroupId).includes(id));
    // allowAllOutbound: false renders a disabling placeholder rule, never 0.0.0.0/0 to all ports.
    expect(json(sg?.props.SecurityGroupEgress ?? [])).not.toMatch(/"IpProtocol":"-1"/);
  });

  it('routes DynamoDB and Step Functions traffic from the private subnets through VPC endpoints', () => {
    const services = resources<{ ServiceName: unknown; VpcEndpointType?: string }>('AWS::EC2::VPCEndpoint').map(({ props }) => ({
      name: json(props.ServiceName),
      type: props.VpcEndpointType,
    }));
    expect(services).toContainEqual({ name: expect.stringContaining('.dynamodb'), type: 'Gateway' });
    expect(services).toContainEqual({ name: expect.stringContaining('.states'), type: 'Interface' });
  });

  it('runs the sweep on the configured schedule, into the Purge function, with retries and a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: config.purgeSweepSchedule,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PurgeFunction'), 'Arn'] },
          Input: json({ action: 'sweep' }),
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
        }),
      ],
    });
  });

  it('alarms when a sweep could not be delivered (its DLQ is not empty)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('PurgeSweep-dlq-not-empty'),
      Dimensions: [Match.objectLike({ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PurgeSweepDeadLetterQueue'), 'QueueName'] } })],
    });
  });

  it('takes the sweep schedule from context, defaulting to daily, and refuses anything but cron()/rate()', () => {
    expect(parseConfig({}).purgeSweepSchedule).toBe('cron(0 4 * * ? *)');
    expect(parseConfig({ purgeSweepSchedule: 'rate(6 hours)' }).purgeSweepSchedule).toBe('rate(6 hours)');
    expect(() => parseConfig({ purgeSweepSchedule: 'every day' })).toThrow(/purgeSweepSchedule/);
  });

  it('builds the PurgeTenant workflow invoking only the Lifecycle, Purge and Secrets (log group at purge) functions', () => {
    const spec = HANDLERS.Purge;
    expect(spec.env).toEqual(expect.arrayContaining(['TENANTS_MOUNT_PATH', 'PURGE_STATE_MACHINE_ARN']));
    const [machine] = resources<{ StateMachineName: string; RoleArn: unknown }>('AWS::StepFunctions::StateMachine').filter(
      ({ props }) => props.StateMachineName === `${config.prefix}-purge-tenant`,
    );
    expect(machine).toBeDefined();
    const invoke = allStatements(template).find(
      ({ logicalId, statement }) => logicalId.startsWith('WorkflowsPurgeTenantRole') && actionsOf(statement).includes('lambda:InvokeFunction'),
    );
    const invoked = asArray(invoke?.statement.Resource as unknown[]).map((r) => json(r).match(/"(\w+)Function[0-9A-F]{8}"/)?.[1] as HandlerKey);
    expect(invoked.sort()).toEqual(['Lifecycle', 'Purge', 'Secrets']);
  });
});

describe('purge-tenant.asl.json', () => {
  interface Task {
    Type: string;
    Resource?: string;
    TimeoutSeconds?: number;
    Retry?: { ErrorEquals: string[]; JitterStrategy?: string }[];
    Catch?: { ErrorEquals: string[] }[];
    Next?: string;
  }
  const asl = JSON.parse(readFileSync(path.join(REPO_ROOT, 'state-machines/purge-tenant.asl.json'), 'utf8')) as {
    Comment: string;
    States: Record<string, Task>;
  };
  const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');

  it('deletes the data, then the log group kept since the deprovision, before it records PURGED, and says why that order is safe', () => {
    expect(asl.States.PurgeData?.Resource).toBe('${PurgeFunctionArn}');
    expect(asl.States.PurgeData?.Next).toBe('DeleteLogGroup');
    expect(asl.States.DeleteLogGroup?.Resource).toBe('${SecretsFunctionArn}');
    expect(asl.States.DeleteLogGroup?.Next).toBe('MarkPurged');
    expect(asl.States.MarkPurged?.Resource).toBe('${LifecycleFunctionArn}');
    expect(asl.Comment).toMatch(/crash between them is safe/);
  });

  it('gives every Task a timeout, full-jitter retries of throttling, transient, Lambda and timeout errors, and a Catch', () => {
    expect(tasks.map(([name]) => name).sort()).toEqual(['DeleteLogGroup', 'MarkPurged', 'PurgeData']);
    for (const [, task] of tasks) {
      expect(task.TimeoutSeconds).toBeGreaterThan(0);
      const retried = (task.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried).toEqual(expect.arrayContaining(['ThrottledError', 'TransientAwsError', 'Lambda.ServiceException', 'Lambda.Unknown', 'States.Timeout']));
      for (const r of task.Retry ?? []) expect(r.JitterStrategy).toBe('FULL');
      expect((task.Catch ?? []).flatMap((c) => c.ErrorEquals)).toContain('States.ALL');
    }
  });

  it('lets the Purge task outlive the function timeout only by a margin (the Task timeout covers one invocation)', () => {
    expect(asl.States.PurgeData?.TimeoutSeconds).toBeGreaterThan(HANDLERS.Purge.timeoutSeconds);
    expect(asl.States.PurgeData?.TimeoutSeconds).toBeLessThanOrEqual(HANDLERS.Purge.timeoutSeconds + 30);
  });
});
