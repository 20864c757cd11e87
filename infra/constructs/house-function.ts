/**
 * The one way this platform builds a Lambda function: Node.js 22 on ARM64, ESM bundled locally by
 * esbuild (no Docker) with the options and plugins of ./bundling.ts (the AWS SDK bundled), source maps, X-Ray, an explicit log group
 * with retention, Powertools settings, and a role that starts empty: permissions come only from the
 * binders (`allow`), each wildcard acknowledged for cdk-nag with its reason.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HandlerSpec } from '../../functions/handlers/catalogue';

export const HANDLERS_DIR = path.join(__dirname, '../../functions/handlers');
const ROOT = path.join(__dirname, '../..');

export { ESM_REQUIRE_BANNER } from './bundling';

export interface HouseFunctionProps {
  readonly functionName: string;
  readonly spec: HandlerSpec;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /** Directory holding the handler entry files. @default functions/handlers */
  readonly handlersDir?: string;
  /**
   * Run in the VPC (for an EFS mount): subnets and security groups. The binder must then grant the
   * ENI actions (the house role starts empty; no managed policy is attached).
   * @default - not in a VPC
   */
  readonly vpc?: HouseFunctionVpc;
}

export interface HouseFunctionVpc {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
  /** EFS access point mounted by the function. @default - none */
  readonly filesystem?: lambda.FileSystem;
}

/** A wildcard resource or action a binder grants, with the reason cdk-nag must show. */
export interface Acknowledgement {
  /** The finding exactly as cdk-nag names it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  readonly reason: string;
}

export class HouseFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  private readonly policy: iam.Policy;
  private readonly acknowledged = new Set<string>();

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    const { spec } = props;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: least-privilege role, see infra/constructs/binders.ts`,
    });
    this.policy = new iam.Policy(this, 'Policy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'OwnLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
      ],
    });
    this.policy.attachToRole(this.role);

    const entry = path.join(props.handlersDir ?? HANDLERS_DIR, spec.entry);
    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: spec.description,
      // Built locally by ./bundle-function.ts (esbuild with ./bundling.ts's options and plugins, which
      // the bench uses too); the asset is the bundle, hashed by its content.
      code: lambda.Code.fromAsset(path.dirname(entry), {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never run: the local bundling below always succeeds. The command names the entry, because
          // CDK caches a bundle by source directory and bundling options, and the handlers share one
          // directory.
          image: DockerImage.fromRegistry('unused-local-bundling-only'),
          command: ['bundle-function', path.relative(ROOT, entry)],
          local: {
            tryBundle(outputDir: string): boolean {
              execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bundle-function.ts'), entry, outputDir], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
              return true;
            },
          },
        },
      }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMiB,
      timeout: Duration.seconds(spec.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      role: this.role,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      ...(props.vpc
        ? {
            vpc: props.vpc.vpc,
            vpcSubnets: props.vpc.subnets,
            securityGroups: props.vpc.securityGroups,
            ...(props.vpc.filesystem ? { filesystem: props.vpc.filesystem } : {}),
          }
        : {}),
    });
    // In a VPC, Lambda creates the function's ENIs with its role at creation: the policy must exist first.
    if (props.vpc) this.function.node.addDependency(this.policy);
    // X-Ray tracing adds its statement to the role's default policy.
    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions.',
      });
    }
    const node22 = 'Node.js 22 is the project\'s target runtime (issue 2): the local Step Functions interpreter and the toolchain are pinned to Node 22.';
    Validations.of(this.function).acknowledge(
      { id: 'AwsSolutions-L1', reason: node22 },
      { id: 'Serverless-LambdaLatestVersion', reason: node22 },
      {
        id: 'Serverless-LambdaDLQ',
        reason: 'Control-plane functions are invoked synchronously (Step Functions tasks, SQS event source mapping); an async dead-letter target never receives anything. Failures surface as task errors (Catch) or in the signup queue\'s redrive DLQ.',
      },
    );
  }

  get functionArn(): string {
    return this.function.functionArn;
  }

  /** Adds statements to the function's own policy; wildcards must be acknowledged one by one. */
  allow(statements: iam.PolicyStatement[], acknowledgements: Acknowledgement[] = []): this {
    this.policy.addStatements(...statements);
    const fresh = acknowledgements.filter((a) => !this.acknowledged.has(a.id));
    fresh.forEach((a) => this.acknowledged.add(a.id));
    if (fresh.length > 0) Validations.of(this.policy).acknowledge(...fresh);
    return this;
  }

  get stack(): Stack {
    return Stack.of(this);
  }
}
