/**
 * ARNs of the per-tenant resources the workflows create at run time (so only patterns exist at synth),
 * and the same patterns as cdk-nag prints them, to acknowledge each wildcard finding by its exact id.
 */
import { ArnFormat, type Stack } from 'aws-cdk-lib';
import { TENANT_ROLE_PATH } from '../../functions/domain/naming';

/** cdk-nag renders `${AWS::Partition}` as `<AWS::Partition>`. */
const nagArn = (service: string, resource: string, region = true, account = true): string =>
  `arn:<AWS::Partition>:${service}:${region ? '<AWS::Region>' : ''}:${account ? '<AWS::AccountId>' : ''}:${resource}`;

// TENANT_ROLE_PATH is '/octw/tenants/': role ARNs read role/octw/tenants/<name>.
const ROLE_PATTERN = `role${TENANT_ROLE_PATH}*`;

export function tenantArns(stack: Stack) {
  const f = (service: string, resource: string, resourceName: string, arnFormat: ArnFormat, region?: string) =>
    stack.formatArn({ service, resource, resourceName, arnFormat, ...(region === undefined ? {} : { region }) });
  return {
    tenantRoles: f('iam', 'role', `${TENANT_ROLE_PATH.slice(1)}*`, ArnFormat.SLASH_RESOURCE_NAME, ''),
    tenantSecrets: f('secretsmanager', 'secret', 'octw/tenants/*', ArnFormat.COLON_RESOURCE_NAME),
    tenantLogGroups: f('logs', 'log-group', '/octw/tenants/*', ArnFormat.COLON_RESOURCE_NAME),
    tenantLogStreams: f('logs', 'log-group', '/octw/tenants/*:log-stream:*', ArnFormat.COLON_RESOURCE_NAME),
    allLogGroups: f('logs', 'log-group', '*', ArnFormat.COLON_RESOURCE_NAME),
    ecrRepositories: f('ecr', 'repository', '*', ArnFormat.SLASH_RESOURCE_NAME),
    securityGroups: f('ec2', 'security-group', '*', ArnFormat.SLASH_RESOURCE_NAME),
    accessPoints: f('elasticfilesystem', 'access-point', '*', ArnFormat.SLASH_RESOURCE_NAME),
    nag: {
      tenantRoles: nagArn('iam', ROLE_PATTERN, false),
      tenantSecrets: nagArn('secretsmanager', 'secret:octw/tenants/*'),
      tenantLogGroups: nagArn('logs', 'log-group:/octw/tenants/*'),
      tenantLogStreams: nagArn('logs', 'log-group:/octw/tenants/*:log-stream:*'),
      allLogGroups: nagArn('logs', 'log-group:*'),
      ecrRepositories: nagArn('ecr', 'repository/*'),
      securityGroups: nagArn('ec2', 'security-group/*'),
      accessPoints: nagArn('elasticfilesystem', 'access-point/*'),
    },
  };
}
export type TenantArns = ReturnType<typeof tenantArns>;

/** ECS ARNs of the cell cluster's tenant services, tasks and task definitions. */
export function ecsArns(stack: Stack, clusterName: string) {
  const f = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'ecs', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  return {
    cluster: f('cluster', clusterName),
    services: f('service', `${clusterName}/octw-*`),
    tasks: f('task', `${clusterName}/*`),
    taskDefinitions: f('task-definition', 'octw-*:*'),
    nag: {
      services: nagArn('ecs', `service/${clusterName}/octw-*`),
      tasks: nagArn('ecs', `task/${clusterName}/*`),
      taskDefinitions: nagArn('ecs', 'task-definition/octw-*:*'),
    },
  };
}
