/**
 * The cell's ECS cluster (Fargate and Fargate Spot, Container Insights) and the one task execution
 * role every tenant task definition names: it pulls images from ECR, writes to this cell's
 * `/octw/tenants/<cell>/*` log groups and reads this cell's `octw/tenants/<cell>/*` secrets for the
 * `secrets` of the gateway container (never another cell's).
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TAG_CELL } from '../../functions/domain/naming';
import { cellTenantArns, tenantArns } from './arns';

export interface ClusterProps {
  readonly prefix: string;
  readonly cellId: string;
  readonly clusterName: string;
  readonly vpc: ec2.IVpc;
}

export class Cluster extends Construct {
  readonly cluster: ecs.Cluster;
  /** Shared per-cell task execution role (not under /octw/tenants/, so no tenant workflow can touch it). */
  readonly executionRole: iam.Role;

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: props.clusterName,
      vpc: props.vpc,
      enableFargateCapacityProviders: true,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const arns = tenantArns(Stack.of(this));
    const cell = cellTenantArns(Stack.of(this), props.cellId);
    this.executionRole = new iam.Role(this, 'TaskExecutionRole', {
      roleName: `${props.prefix}-task-execution`,
      description: 'OCTW tenant tasks: pull images, write tenant logs, read tenant gateway secrets',
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
    });
    const policy = new iam.Policy(this, 'TaskExecutionPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'EcrAuthorization',
          actions: ['ecr:GetAuthorizationToken'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'EcrPull',
          actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
          resources: [arns.ecrRepositories],
        }),
        new iam.PolicyStatement({
          sid: 'TenantLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [cell.logGroups, cell.logStreams],
        }),
        // Only what a tenant task's `secrets` may name: gateway tokens and tenant credential secrets
        // (channel tokens, provider keys) of this cell, tagged with this cell. The role is shared by the
        // cell's tenants (ECS fetches secrets with it before the task starts, the tenant's code never
        // holds it); which secrets a tenant's task gets is decided by its task definition, into which
        // the workflow places only secrets verified as that tenant's own (name prefix and tags).
        new iam.PolicyStatement({
          sid: 'TenantSecrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [cell.gatewayTokens, cell.credentials],
          conditions: { StringEquals: { [`aws:ResourceTag/${TAG_CELL}`]: props.cellId } },
        }),
      ],
    });
    policy.attachToRole(this.executionRole);
    Validations.of(policy).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'ecr:GetAuthorizationToken has no resource-level permissions; it only issues a registry login token.' },
      { id: `AwsSolutions-IAM5[Resource::${arns.nag.ecrRepositories}]`, reason: 'Tenant plans choose their image (mirrored into this account\'s ECR); image pulls are read-only and repositories hold no tenant data.' },
      { id: `AwsSolutions-IAM5[Resource::${cell.nag.logGroups}]`, reason: "Tenant log groups are created per tenant at run time under this cell's /octw/tenants/<cell>/; the role only appends log events." },
      { id: `AwsSolutions-IAM5[Resource::${cell.nag.logStreams}]`, reason: "Log streams of this cell's tenant log groups are created by the awslogs driver at run time." },
      { id: `AwsSolutions-IAM5[Resource::${cell.nag.gatewayTokens}]`, reason: "This cell's tenant gateway-token secrets are created per tenant at run time under octw/tenants/<cell>/<id>/gateway-token; ECS injects them into that tenant's container only." },
      { id: `AwsSolutions-IAM5[Resource::${cell.nag.credentials}]`, reason: "This cell's tenant credential secrets (channel tokens, provider keys) are created per tenant at run time under octw/tenants/<cell>/<id>/credentials/; ECS injects each into the container of the tenant whose task definition names it, and the workflow names only secrets verified as that tenant's." },
    );
  }
}
