/**
 * Intent of the platform template: what each assertion protects is in its name. One synth for the file
 * (bundling skipped; test/infra/bundling.test.ts bundles for real), with cdk-nag as `cdk synth` runs it.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { TAG_MANAGED_BY, TENANT_ROLE_PATH } from '../../functions/domain/naming';
import { TENANT_STATUSES } from '../../functions/domain/tenant';
import { HANDLERS, type HandlerKey, STATE_MACHINES } from '../../functions/handlers/catalogue';
import { TENANTS_TABLE_KEYS } from '../../functions/shared/table-schema';
import { parseConfig } from '../../infra/config';
import { kebab } from '../../infra/constructs/workflows';
import {
  type CfnStatement,
  allStatements,
  asArray,
  cdkJsonContext,
  functionStatements,
  renderDefinition,
  synthPlatform,
} from './synth';

const { stack, template, synthError } = synthPlatform();
const config = parseConfig(cdkJsonContext());
const resources = <T = Record<string, unknown>>(type: string) =>
  Object.entries(template.findResources(type)).map(([id, r]) => ({ id, props: (r as { Properties: T }).Properties }));
const actionsOf = (s: CfnStatement) => asArray(s.Action);
const json = (v: unknown) => JSON.stringify(v);

describe('PlatformStack', () => {
  it('synthesizes with cdk-nag AwsSolutions and Serverless checks and no unacknowledged finding', () => {
    expect(synthError?.message).toBeUndefined();
  });

  describe('state machines', () => {
    const machines = resources<{ DefinitionString: unknown; DefinitionSubstitutions?: Record<string, unknown>; StateMachineName: string; StateMachineType: string; TracingConfiguration: unknown; LoggingConfiguration: { Level: string; Destinations: unknown[] } }>('AWS::StepFunctions::StateMachine');

    type State = {
      Type: string;
      Resource?: string;
      Retry?: unknown[];
      Catch?: unknown[];
      Branches?: { States: Record<string, State> }[];
      ItemProcessor?: { States: Record<string, State> };
      Iterator?: { States: Record<string, State> };
    };
    interface FoundTask {
      readonly name: string;
      readonly task: State;
      /** A Parallel or Map around the task catches its errors. */
      readonly caughtByEnclosing: boolean;
    }
    const tasksOf = (states: Record<string, State>, caughtByEnclosing = false): FoundTask[] =>
      Object.entries(states).flatMap(([name, s]) => {
        const inner = caughtByEnclosing || Boolean(s.Catch?.length);
        return [
          ...(s.Type === 'Task' ? [{ name, task: s, caughtByEnclosing }] : []),
          ...(s.Branches ?? []).flatMap((b) => tasksOf(b.States, inner)),
          ...(s.ItemProcessor ? tasksOf(s.ItemProcessor.States, inner) : []),
          ...(s.Iterator ? tasksOf(s.Iterator.States, inner) : []),
        ];
      });
    const definitions = machines.map(({ props }) => ({
      name: props.StateMachineName,
      text: renderDefinition(props.DefinitionString),
      substitutions: props.DefinitionSubstitutions ?? {},
    }));
    const tasksIn = (text: string) => tasksOf((JSON.parse(text) as { States: Record<string, State> }).States);

    it('builds one Standard state machine per catalogue entry, named octw-<cell>-<name>', () => {
      expect(machines.map((m) => m.props.StateMachineName).sort()).toEqual(
        Object.keys(STATE_MACHINES).map((k) => `${config.prefix}-${kebab(k)}`).sort(),
      );
      for (const m of machines) expect(m.props.StateMachineType).toBe('STANDARD');
    });

    it('substitutes every ${...} placeholder of a definition with a Lambda function ARN, or a cell setting', () => {
      for (const d of definitions) {
        const placeholders = [...new Set([...d.text.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]))];
        expect(placeholders.length).toBeGreaterThan(0);
        // Issue 12/14: the cell's ingress setting, as a string the definition branches on (this cell has no ingress).
        if (placeholders.includes('CellIngress')) expect(d.substitutions.CellIngress).toBe('off');
        for (const key of placeholders.filter((k) => k !== 'CellIngress')) {
          if ((key as string).endsWith('StateMachineArn')) {
            // A nested workflow (startExecution.sync:2): the ARN of that catalogue state machine, by name.
            const nested = (key as string).replace(/StateMachineArn$/, '');
            expect(json(d.substitutions[key as string])).toContain(`:stateMachine:${config.prefix}-${kebab(nested)}`);
            continue;
          }
          const ref = d.substitutions[key as string] as { 'Fn::GetAtt'?: [string, string] } | undefined;
          const [logicalId = '', attribute] = ref?.['Fn::GetAtt'] ?? [];
          const target = (template.toJSON().Resources as Record<string, unknown>)[logicalId] as { Type: string; Properties: { FunctionName: string } } | undefined;
          const handler = (key as string).replace(/FunctionArn$/, '').toLowerCase();
          expect({ key, type: target?.Type, name: target?.Properties.FunctionName, attribute }).toEqual({
            key,
            type: 'AWS::Lambda::Function',
            name: `${config.prefix}-${handler}`,
            attribute: 'Arn',
          });
        }
      }
    });

    it('gives every Task a Retry, and a Catch of its own or on its enclosing Parallel/Map (no failure skips compensation)', () => {
      for (const d of definitions) {
        const tasks = tasksIn(d.text);
        expect(tasks.length).toBeGreaterThan(0);
        const withoutRetry = tasks.filter((t) => !t.task.Retry?.length).map((t) => t.name);
        const uncaught = tasks.filter((t) => !t.task.Catch?.length && !t.caughtByEnclosing).map((t) => t.name);
        expect({ machine: d.name, withoutRetry, uncaught }).toEqual({ machine: d.name, withoutRetry: [], uncaught: [] });
      }
    });

    it('calls Lambda functions by plain function ARN; only a gateway wait uses lambda:invoke.waitForTaskToken (on the Gateway function); nested workflows only through startExecution.sync:2 of a catalogue machine', () => {
      for (const d of definitions) {
        for (const { name, task } of tasksIn(d.text)) {
          if (task.Resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
            // Issue 14.1: the event-driven gateway wait (the token is resumed by the GatewayEvents function).
            expect({ name, fn: (task as { Parameters?: { FunctionName?: string } }).Parameters?.FunctionName }).toEqual({ name, fn: '${GatewayFunctionArn}' });
          } else if (task.Resource === 'arn:aws:states:::states:startExecution.sync:2') {
            expect((task as { Parameters?: { StateMachineArn?: string } }).Parameters?.StateMachineArn).toMatch(/^\$\{[A-Za-z]+StateMachineArn\}$/);
          } else expect(task.Resource).toMatch(/^\$\{[A-Za-z]+FunctionArn\}$/);
        }
      }
    });

    it('lets only the rollout state machine start executions of another, and only UpdateTenant', () => {
      const starts = allStatements(template).filter(({ statement }) => actionsOf(statement).includes('states:StartExecution') && json(statement.Resource).includes(`${config.prefix}-update-tenant`));
      expect(starts.length).toBe(1);
      expect(json(starts[0]!.statement.Resource)).not.toContain('*');
      const follow = allStatements(template).filter(({ statement }) => actionsOf(statement).includes('states:StopExecution'));
      expect(follow.map(({ statement }) => json(statement.Resource))).toEqual([expect.stringContaining(`:execution:${config.prefix}-update-tenant:*`)]);
    });

    it('logs every execution at level ALL to /aws/vendedlogs/states/ and traces with X-Ray', () => {
      for (const m of machines) {
        expect(m.props.LoggingConfiguration.Level).toBe('ALL');
        expect(m.props.TracingConfiguration).toEqual({ Enabled: true });
      }
      for (const key of Object.keys(STATE_MACHINES)) {
        template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/vendedlogs/states/${config.prefix}-${kebab(key)}` });
      }
    });

    it('lets each state machine invoke only the functions its definition names', () => {
      const invokeStatements = allStatements(template).filter(({ statement }) => actionsOf(statement).includes('lambda:InvokeFunction'));
      expect(invokeStatements.length).toBe(Object.keys(STATE_MACHINES).length);
      for (const { statement } of invokeStatements) {
        expect(json(statement.Resource)).not.toContain('*');
      }
    });
  });

  describe('gateway waits resumed by ECS events (issue 14.1)', () => {
    const stateMachineArnsOf = (resource: unknown): string[] => asArray(resource as string | string[]).map((r) => json(r));

    it('routes the cell cluster\'s ECS deployment, service and task events to the GatewayEvents function, with retries and a dead-letter queue', () => {
      const [rule] = resources<{ EventPattern: Record<string, unknown>; Targets: { Arn: unknown; DeadLetterConfig?: unknown; RetryPolicy?: unknown }[] }>('AWS::Events::Rule').filter(
        (r) => (json(r.props.EventPattern) ?? '').includes('aws.ecs'),
      );
      expect(rule?.props.EventPattern['source']).toEqual(['aws.ecs']);
      expect(rule?.props.EventPattern['detail-type']).toEqual(['ECS Deployment State Change', 'ECS Service Action', 'ECS Task State Change']);
      // Only this cell's tenant services and this cluster's tasks (by ARN prefix).
      const prefixes = json(rule?.props.EventPattern['resources']);
      expect(prefixes).toContain(`service/${config.clusterName}/octw-${config.cellId}--`);
      expect(prefixes).toContain(`task/${config.clusterName}/`);
      expect(rule?.props.Targets).toHaveLength(1);
      expect(json(rule?.props.Targets[0]?.Arn)).toContain('GatewayEventsFunction');
      expect(rule?.props.Targets[0]?.DeadLetterConfig).toBeDefined();
      expect(rule?.props.Targets[0]?.RetryPolicy).toBeDefined();
    });

    it('lets the GatewayEvents and Gateway functions resume task tokens of the provision, resume and update state machines only', () => {
      for (const key of ['GatewayEvents', 'Gateway'] as const) {
        const statements = functionStatements(template, key).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
        expect(statements).toHaveLength(1);
        const [st] = statements;
        expect(actionsOf(st!).sort()).toEqual(key === 'GatewayEvents' ? ['states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess'] : ['states:SendTaskFailure', 'states:SendTaskSuccess']);
        const arns = stateMachineArnsOf(st!.Resource);
        expect(arns).toHaveLength(3);
        for (const name of ['provision-tenant', 'resume-tenant', 'update-tenant']) expect(arns.some((a) => a.includes(`stateMachine:${config.prefix}-${name}`))).toBe(true);
        expect(json(st!.Resource)).not.toContain('*');
      }
      // The events function reads and writes only the tenants table (its wait items), nothing else.
      const other = functionStatements(template, 'GatewayEvents').flatMap(actionsOf).filter((a) => !a.startsWith('states:') && !a.startsWith('logs:') && !a.startsWith('xray:'));
      expect(other.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    });
  });

  describe('tenants table', () => {
    it('keeps tenant records recoverable: point-in-time recovery, deletion protection, retained on stack delete', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
          BillingMode: 'PAY_PER_REQUEST',
          SSESpecification: { SSEEnabled: true },
        }),
      });
    });

    it('uses the shared key schema: pk/sk, TTL attribute and the byStatus/byCell indexes', () => {
      const k = TENANTS_TABLE_KEYS;
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: k.partitionKey, KeyType: 'HASH' },
          { AttributeName: k.sortKey, KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: k.timeToLiveAttribute, Enabled: true },
        GlobalSecondaryIndexes: Object.values(k.indexes).map((i) =>
          Match.objectLike({
            IndexName: i.indexName,
            KeySchema: [
              { AttributeName: i.partitionKey, KeyType: 'HASH' },
              { AttributeName: i.sortKey, KeyType: 'RANGE' },
            ],
          }),
        ),
      });
    });
  });

  describe('tenant storage', () => {
    const [fs] = resources<{ Encrypted: boolean; FileSystemPolicy: { Statement: CfnStatement[] } }>('AWS::EFS::FileSystem');
    const policy = fs?.props.FileSystemPolicy.Statement ?? [];

    it('encrypts the file system at rest', () => {
      expect(fs?.props.Encrypted).toBe(true);
    });

    it('denies any file-system access without TLS', () => {
      expect(policy).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('denies mounting without an access point (tenants reach only their own directory)', () => {
      const deny = policy.find((s) => s.Effect === 'Deny' && json(s.Condition).includes('elasticfilesystem:AccessPointArn'));
      expect(deny?.Condition).toEqual({ Null: { 'elasticfilesystem:AccessPointArn': 'true' } });
      expect(actionsOf(deny!)).toEqual(expect.arrayContaining(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']));
    });

    it('allows no anonymous principal and never grants ClientRootAccess', () => {
      for (const s of policy.filter((p) => p.Effect === 'Allow')) {
        expect(json(s.Principal)).not.toMatch(/"\*"/);
        expect(actionsOf(s)).not.toContain('elasticfilesystem:ClientRootAccess');
      }
    });

    it('backs the file system up with an AWS Backup plan', () => {
      template.resourceCountIs('AWS::Backup::BackupPlan', 1);
      template.hasResourceProperties('AWS::Backup::BackupSelection', {
        BackupSelection: Match.objectLike({ Resources: Match.arrayWith([Match.objectLike({ 'Fn::Join': Match.anyValue() })]) }),
      });
    });
  });

  describe('IAM least privilege', () => {
    const statements = allStatements(template).map((s) => s.statement);

    it('has no Allow statement with Action "*" anywhere in the template', () => {
      const wildcard = statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes('*'));
      expect(wildcard).toEqual([]);
    });

    it('lets no policy create or write a role without the tenant permissions boundary, and only under /octw/tenants/', () => {
      const roleWriters = statements.filter(
        (s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a === 'iam:CreateRole' || a === 'iam:PutRolePolicy'),
      );
      expect(roleWriters.flatMap(actionsOf).sort()).toEqual(['iam:CreateRole', 'iam:PutRolePolicy']);
      for (const s of roleWriters) {
        expect(json(s.Condition?.StringEquals?.['iam:PermissionsBoundary'])).toContain(`policy/${config.prefix}-tenant-boundary`);
        expect(json(s.Resource)).toContain(`:role${TENANT_ROLE_PATH}${config.prefix}--*`);
        expect(functionStatements(template, 'Identity')).toContainEqual(s);
      }
    });

    it('grants no action that could change or remove a permissions boundary, or attach managed policies', () => {
      const forbidden = ['iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary', 'iam:AttachRolePolicy', 'iam:CreatePolicyVersion', 'iam:*'];
      for (const s of statements.filter((st) => st.Effect === 'Allow')) {
        expect(actionsOf(s).filter((a) => forbidden.includes(a))).toEqual([]);
      }
    });

    it('lets only the Gateway function pass roles to ECS (tenant roles and the execution role), and only the Restore function pass AWS Backup its restore role', () => {
      const passers = allStatements(template).filter(({ statement }) => actionsOf(statement).includes('iam:PassRole'));
      expect(passers).toHaveLength(2);
      const restore = passers.find((p) => p.logicalId.startsWith('RestoreFunctionPolicy'));
      expect(restore?.statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } });
      expect(json(restore?.statement.Resource)).toMatch(/^\{"Fn::GetAtt":\["RestoreBackupRestoreRole[0-9A-F]+","Arn"\]\}$/);
      const [{ logicalId, statement }] = passers.filter((p) => p !== restore) as [{ logicalId: string; statement: CfnStatement }];
      expect(logicalId).toMatch(/^GatewayFunctionPolicy/);
      expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
      expect(json(statement.Resource)).toContain(`:role${TENANT_ROLE_PATH}${config.prefix}--*`);
      expect(json(statement.Resource)).toMatch(/TaskExecutionRole/);
    });

    it('lets the Network function change or delete only security groups tagged for OCTW and this cell', () => {
      const change = functionStatements(template, 'Network').find((s) => actionsOf(s).includes('ec2:DeleteSecurityGroup'));
      expect(change?.Condition).toEqual({
        StringEquals: { [`aws:ResourceTag/${TAG_MANAGED_BY}`]: 'octw', 'aws:ResourceTag/octw:cell': config.cellId },
      });
      const tagging = functionStatements(template, 'Network').find((s) => actionsOf(s).includes('ec2:CreateTags'));
      expect(tagging?.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } });
    });

    it('never tags platform resources octw:managed-by, so tenant workflows cannot modify the platform security groups', () => {
      for (const type of ['AWS::EC2::SecurityGroup', 'AWS::EFS::FileSystem', 'AWS::IAM::Role']) {
        for (const { props } of resources<{ Tags?: { Key: string }[] }>(type)) {
          expect((props.Tags ?? []).map((t) => t.Key)).not.toContain(TAG_MANAGED_BY);
        }
      }
    });

    it('gives every function read access only to what its binder names (no dynamodb:* or Scan)', () => {
      for (const key of Object.keys(HANDLERS) as HandlerKey[]) {
        const actions = functionStatements(template, key).flatMap(actionsOf);
        expect(actions.length).toBeGreaterThan(2);
        expect(actions.filter((a) => a.endsWith(':*') || a === 'dynamodb:Scan' || a === 'dynamodb:DeleteTable')).toEqual([]);
      }
    });

    it('caps tenant roles with a boundary that allows only EFS client mount/write, tenant secrets, Bedrock invoke and tenant logs', () => {
      const [boundary] = resources<{ ManagedPolicyName: string; PolicyDocument: { Statement: CfnStatement[] } }>('AWS::IAM::ManagedPolicy');
      expect(boundary?.props.ManagedPolicyName).toBe(`${config.prefix}-tenant-boundary`);
      // Bedrock only when the catalogue names models (test/infra/cell-scoping.test.ts checks which).
      // The catalogue's models in the cell's Region, the tenants' own application inference profiles, and plan guardrails.
      const bedrock = config.plans.some((p) => p.bedrockModels.length > 0)
        ? ['bedrock:ApplyGuardrail', 'bedrock:InvokeModel', 'bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream', 'bedrock:InvokeModelWithResponseStream']
        : [];
      expect(boundary?.props.PolicyDocument.Statement.flatMap(actionsOf).sort()).toEqual(
        [
          ...bedrock,
          'elasticfilesystem:ClientMount',
          'elasticfilesystem:ClientWrite',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'secretsmanager:GetSecretValue',
        ].sort(),
      );
    });
  });

  describe('functions', () => {
    const functions = resources<{
      FunctionName: string;
      Runtime: string;
      Architectures: string[];
      MemorySize: number;
      Timeout: number;
      TracingConfig: { Mode: string };
      LoggingConfig: { LogGroup: unknown };
      Environment: { Variables: Record<string, unknown> };
    }>('AWS::Lambda::Function').filter(({ props }) => typeof props.FunctionName === 'string' && props.FunctionName.startsWith(config.prefix));

    it('builds every catalogue handler as an ARM64 Node.js 22 function with X-Ray, its own log group and the catalogue memory/timeout', () => {
      expect(functions).toHaveLength(Object.keys(HANDLERS).length);
      for (const [key, spec] of Object.entries(HANDLERS)) {
        const fn = functions.find((f) => f.props.FunctionName === `${config.prefix}-${key.toLowerCase()}`);
        expect(fn?.props).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          MemorySize: spec.memoryMiB,
          Timeout: spec.timeoutSeconds,
          TracingConfig: { Mode: 'Active' },
        });
        expect(fn?.props.LoggingConfig.LogGroup).toBeDefined();
      }
    });

    it('gives each function exactly the environment its handler declares, plus Powertools settings', () => {
      for (const [key, spec] of Object.entries(HANDLERS)) {
        const fn = functions.find((f) => f.props.FunctionName === `${config.prefix}-${key.toLowerCase()}`);
        expect(Object.keys(fn?.props.Environment.Variables ?? {}).sort()).toEqual(
          [...spec.env, 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'LOG_LEVEL', 'NODE_OPTIONS'].sort(),
        );
        expect(fn?.props.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('OCTW');
      }
    });

    it('gives Intake the provision state machine ARN by name, without a reference that would form a cycle', () => {
      const intake = functions.find((f) => f.props.FunctionName === `${config.prefix}-intake`);
      const arn = json(intake?.props.Environment.Variables.PROVISION_STATE_MACHINE_ARN);
      expect(arn).toContain(`:stateMachine:${config.prefix}-provision-tenant`);
      expect(arn).not.toMatch(/GetAtt|"Ref":"(?!AWS::)/);
    });

    it('passes the plan catalogue from context as PLANS_JSON', () => {
      const gateway = functions.find((f) => f.props.FunctionName === `${config.prefix}-gateway`);
      expect(JSON.parse(String(gateway?.props.Environment.Variables.PLANS_JSON))).toEqual(config.plans);
    });
  });

  it('sets a retention on every log group', () => {
    for (const { id, props } of resources<{ RetentionInDays?: number }>('AWS::Logs::LogGroup')) {
      expect({ id, retention: props.RetentionInDays }).toEqual({ id, retention: expect.any(Number) });
    }
  });

  describe('network', () => {
    it('never gives tasks public IPs: no subnet maps public IPs on launch', () => {
      for (const { props } of resources<{ MapPublicIpOnLaunch?: boolean }>('AWS::EC2::Subnet')) {
        expect(props.MapPublicIpOnLaunch).not.toBe(true);
      }
    });

    it('sizes the private task subnets for thousands of ENIs, one per AZ', () => {
      const mask = `/${config.privateSubnetCidrMask}`;
      const task = resources<{ CidrBlock: string }>('AWS::EC2::Subnet').filter(({ id }) => id.includes('Tasks'));
      expect(task).toHaveLength(config.azCount);
      for (const { props } of task) expect(props.CidrBlock.endsWith(mask)).toBe(true);
    });

    it('creates the interface endpoints tenant tasks need (ECR, logs, Secrets Manager, STS, Bedrock) and the S3 gateway', () => {
      const services = resources<{ ServiceName: unknown; VpcEndpointType?: string }>('AWS::EC2::VPCEndpoint').map(({ props }) => json(props.ServiceName));
      for (const s of ['ecr.api', 'ecr.dkr', '.logs', '.secretsmanager', '.sts', 'bedrock-runtime', '.s3']) {
        expect(services.some((name) => name.includes(s))).toBe(true);
      }
    });
  });

  describe('tenant census', () => {
    it('counts tenants by status every 5 minutes through the Lifecycle function (the dashboard metric)', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LifecycleFunction'), 'Arn'] }, Input: '{"action":"census"}' })],
      });
    });

    it('signs up for the TenantOffboarded event too: it starts DeprovisionTenant with only the tenant id', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: [config.signupSource], 'detail-type': ['TenantOffboarded'] },
        Targets: [
          Match.objectLike({
            InputTransformer: { InputPathsMap: { 'detail-tenantId': '$.detail.tenantId' }, InputTemplate: '{"tenantId":<detail-tenantId>}' },
            DeadLetterConfig: { Arn: Match.anyValue() },
            RetryPolicy: Match.anyValue(),
          }),
        ],
      });
    });
  });

  describe('signup events', () => {
    it('routes TenantSignedUp events from the configured source to the signup queue with a retry policy and a DLQ', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: [config.signupSource], 'detail-type': ['TenantSignedUp'] },
        Targets: [
          Match.objectLike({
            DeadLetterConfig: { Arn: Match.anyValue() },
            RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
          }),
        ],
      });
    });

    it('feeds the Intake function from the queue with partial batch failures, and redrives poison messages to a DLQ', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        FunctionName: { Ref: Match.stringLikeRegexp('^IntakeFunction') },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `${config.prefix}-signups`,
        RedrivePolicy: Match.objectLike({ maxReceiveCount: Match.anyValue() }),
      });
    });
  });

  describe('observability', () => {
    const alarms = resources<{ MetricName: string; Namespace: string; AlarmActions: unknown[] }>('AWS::CloudWatch::Alarm');

    it('alarms on failed, timed-out and throttled executions, DLQ depth and Lambda errors', () => {
      const metrics = alarms.map((a) => `${a.props.Namespace}/${a.props.MetricName}`);
      expect(metrics).toEqual(
        expect.arrayContaining([
          'AWS/States/ExecutionsFailed',
          'AWS/States/ExecutionsTimedOut',
          'AWS/States/ExecutionThrottled',
          'AWS/SQS/ApproximateNumberOfMessagesVisible',
          'AWS/Lambda/Errors',
        ]),
      );
      expect(metrics.filter((m) => m === 'AWS/Lambda/Errors')).toHaveLength(Object.keys(HANDLERS).length);
      // One depth alarm per dead-letter queue of the platform (signup rule, signup intake, purge sweep).
      const deadLetterQueues = resources<{ QueueName?: string }>('AWS::SQS::Queue').filter(({ props }) => props.QueueName?.endsWith('-dlq'));
      expect(deadLetterQueues.length).toBeGreaterThanOrEqual(3);
      expect(metrics.filter((m) => m === 'AWS/SQS/ApproximateNumberOfMessagesVisible')).toHaveLength(deadLetterQueues.length);
    });

    it('sends every alarm to the KMS-encrypted alarm topic', () => {
      const [topic] = Object.keys(template.findResources('AWS::SNS::Topic', { Properties: { KmsMasterKeyId: Match.anyValue() } }));
      expect(topic).toBeDefined();
      for (const a of alarms) expect(a.props.AlarmActions).toEqual([{ Ref: topic }]);
    });

    it('charts the handlers\' OCTW metrics: provisionings started/succeeded/failed, duration, tenants by status', () => {
      const [dashboard] = resources<{ DashboardBody: unknown }>('AWS::CloudWatch::Dashboard');
      const body = json(dashboard?.props.DashboardBody).replace(/\\/g, '');
      for (const metric of ['ProvisioningStarted', 'ProvisioningSucceeded', 'ProvisioningFailed', 'ProvisioningDuration', 'TenantsByStatus']) {
        expect(body).toContain(metric);
      }
      for (const status of TENANT_STATUSES) expect(body).toContain(`"TenantsByStatus","Status","${status}"`);
    });
  });

  it('is environment-agnostic (synth needs no account, region or lookup)', () => {
    expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(stack.resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
  });
});
