/**
 * Issue 8: finding 11 (the tenant census rule target had no dead-letter queue, unlike every other rule)
 * and "one tenant must not starve the others" (NAT gateways per AZ by default). Template intent tests.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../infra/config';
import { synthPlatform } from './synth';

const { template, synthError } = synthPlatform();

describe('schedules and shared capacity', () => {
  it('synthesizes with cdk-nag clean', () => {
    expect(synthError?.message).toBeUndefined();
  });

  describe('tenant census (finding 11)', () => {
    it('gives the census target a dead-letter queue and a retry policy, like every other rule', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [
          Match.objectLike({
            Input: '{"action":"census"}',
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TenantCensusDeadLetterQueue'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'octw-cell-1-tenant-census-dlq', SqsManagedSseEnabled: true });
    });

    it('alarms when a census lands in its dead-letter queue', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: Match.stringLikeRegexp('TenantCensus-dlq-not-empty'),
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TenantCensusDeadLetterQueue'), 'QueueName'] } }],
      });
    });
  });

  describe('EFS usage measurement (starvation)', () => {
    const usageFunction = () => {
      const fns = template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'octw-cell-1-usage' } });
      expect(Object.keys(fns)).toHaveLength(1);
      return Object.keys(fns)[0]!;
    };

    it('runs the Usage function hourly with a retry policy and a dead-letter queue, and alarms on the queue', () => {
      const fn = usageFunction();
      template.hasResourceProperties('AWS::Events::Rule', {
        Name: 'octw-cell-1-usage',
        ScheduleExpression: 'rate(1 hour)',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
            Input: '{"action":"measure"}',
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UsageScheduleDeadLetterQueue'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'octw-cell-1-UsageSchedule-dlq-not-empty',
        MetricName: 'ApproximateNumberOfMessagesVisible',
      });
    });

    it('alarms when a tenant is over its plan quota', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'octw-cell-1-tenants-over-quota',
        Namespace: 'OCTW',
        MetricName: 'TenantsOverQuota',
        Threshold: 1,
      });
    });

    it('mounts /tenants through its own root access point, read-only: ClientMount and ClientRootAccess, never ClientWrite', () => {
      template.hasResourceProperties('AWS::EFS::AccessPoint', {
        RootDirectory: Match.objectLike({ Path: '/tenants' }),
        PosixUser: { Uid: '0', Gid: '0' },
        AccessPointTags: Match.anyValue(),
      });
      const fn = usageFunction();
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'octw-cell-1-usage',
        FileSystemConfigs: [{ Arn: Match.anyValue(), LocalMountPath: '/mnt/tenants' }],
        VpcConfig: Match.objectLike({ SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^UsageSecurityGroup'), 'GroupId'] }] }),
      });
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes('UsageFunctionRole'),
      );
      const text = JSON.stringify(policies);
      const mounted = JSON.stringify(
        Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'octw-cell-1-usage' } })),
      );
      expect(mounted).toMatch(/UsageAccessPoint/);
      expect(fn).toMatch(/^UsageFunction/);
      expect(text).toContain('elasticfilesystem:ClientRootAccess');
      expect(text).not.toContain('elasticfilesystem:ClientWrite');
      expect(text).toMatch(/elasticfilesystem:AccessPointArn.*StorageFileSystemUsageAccessPoint/);
    });
  });

  describe('monthly token budget (issue 11)', () => {
    const budgetFunction = () => {
      const fns = template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'octw-cell-1-budget' } });
      expect(Object.keys(fns)).toHaveLength(1);
      return Object.keys(fns)[0]!;
    };
    const budgetStatements = () =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes('BudgetFunctionRole'))
        .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] } } }).Properties.PolicyDocument.Statement);

    it('runs the Budget function hourly with a retry policy and a dead-letter queue, and alarms on the queue', () => {
      const fn = budgetFunction();
      template.hasResourceProperties('AWS::Events::Rule', {
        Name: 'octw-cell-1-budget',
        ScheduleExpression: 'rate(1 hour)',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
            Input: '{"action":"check"}',
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BudgetDeadLetterQueue'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'octw-cell-1-BudgetSchedule-dlq-not-empty', MetricName: 'ApproximateNumberOfMessagesVisible' });
      expect(parseConfig({ budgetSchedule: 'cron(0 * * * ? *)' }).budgetSchedule).toBe('cron(0 * * * ? *)');
      expect(() => parseConfig({ budgetSchedule: 'hourly' })).toThrow(/budgetSchedule/);
    });

    it('alarms per cell when a tenant is over its plan\'s token budget', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'octw-cell-1-tenants-over-budget', Namespace: 'OCTW', MetricName: 'TenantsOverBudget', Threshold: 1 });
    });

    it('gives it only what the check needs: metrics read, its notice items, the byStatus index, the bus and SuspendTenant', () => {
      const statements = budgetStatements();
      const bySid = Object.fromEntries(statements.filter((st) => st.Sid).map((st) => [st.Sid!, st]));
      expect(bySid.ReadTokenMetrics).toMatchObject({ Action: 'cloudwatch:GetMetricData', Resource: '*' });
      expect(bySid.BudgetNotices).toMatchObject({
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*'] } },
      });
      expect(JSON.stringify(bySid.SuspendOverBudgetTenants?.Resource)).toContain(':stateMachine:octw-cell-1-suspend-tenant');
      const actions = statements.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
      // No secret, no tenant resource, no metric writes other than its own logs (EMF), no table-wide updates.
      expect(actions.filter((a) => /^(secretsmanager|ecs|ec2|iam|bedrock|elasticfilesystem):/.test(a))).toEqual([]);
      expect(actions).not.toContain('dynamodb:UpdateItem');
      expect(actions).not.toContain('cloudwatch:PutMetricData');
      const wildcard = statements.filter((st) => st.Resource === '*').flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
      expect(wildcard.filter((a) => !a.startsWith('xray:'))).toEqual(['cloudwatch:GetMetricData']);
    });
  });

  describe('NAT gateways', () => {
    it('puts one NAT gateway in each AZ by default, so no AZ shares another\'s NAT bandwidth', () => {
      expect(parseConfig({}).natGateways).toBe(3);
      expect(parseConfig({ azCount: 2 }).natGateways).toBe(2);
      template.resourceCountIs('AWS::EC2::NatGateway', parseConfig({}).azCount);
    });

    it('keeps the count configurable', () => {
      expect(parseConfig({ natGateways: 1 }).natGateways).toBe(1);
      expect(parseConfig({ natGateways: 0 }).natGateways).toBe(0);
    });
  });
});
