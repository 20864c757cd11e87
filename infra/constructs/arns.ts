/**
 * ARNs of the per-tenant resources the workflows create at run time (so only patterns exist at synth),
 * and the same patterns as cdk-nag prints them, to acknowledge each wildcard finding by its exact id.
 */
import { ArnFormat, type Stack } from 'aws-cdk-lib';
import { cellLogGroupPrefix, cellNamePrefix, cellSecretPrefix, TENANT_ROLE_PATH } from '../../functions/domain/naming';

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

/**
 * The same per-tenant resources, but only this cell's: every name unique beyond one cell carries the
 * cell id (functions/domain/naming.ts), so a name prefix scopes a statement to the cell.
 */
export function cellTenantArns(stack: Stack, cellId: string) {
  const f = (service: string, resource: string, resourceName: string, arnFormat: ArnFormat, region?: string) =>
    stack.formatArn({ service, resource, resourceName, arnFormat, ...(region === undefined ? {} : { region }) });
  const role = `${TENANT_ROLE_PATH.slice(1)}${cellNamePrefix(cellId)}*`;
  const secret = `${cellSecretPrefix(cellId)}*`;
  const logGroup = `${cellLogGroupPrefix(cellId)}*`;
  return {
    roles: f('iam', 'role', role, ArnFormat.SLASH_RESOURCE_NAME, ''),
    secrets: f('secretsmanager', 'secret', secret, ArnFormat.COLON_RESOURCE_NAME),
    /** Tenant-owned credential secrets (channel tokens, provider keys): `octw/tenants/<cell>/<id>/credentials/<name>`. */
    credentials: f('secretsmanager', 'secret', `${cellSecretPrefix(cellId)}*/credentials/*`, ArnFormat.COLON_RESOURCE_NAME),
    /** Gateway-token secrets: `octw/tenants/<cell>/<id>/gateway-token` plus AWS's 6-character suffix. */
    gatewayTokens: f('secretsmanager', 'secret', `${cellSecretPrefix(cellId)}*/gateway-token-??????`, ArnFormat.COLON_RESOURCE_NAME),
    logGroups: f('logs', 'log-group', logGroup, ArnFormat.COLON_RESOURCE_NAME),
    logStreams: f('logs', 'log-group', `${logGroup}:log-stream:*`, ArnFormat.COLON_RESOURCE_NAME),
    nag: {
      roles: nagArn('iam', `role/${role}`, false),
      secrets: nagArn('secretsmanager', `secret:${secret}`),
      credentials: nagArn('secretsmanager', `secret:${cellSecretPrefix(cellId)}*/credentials/*`),
      gatewayTokens: nagArn('secretsmanager', `secret:${cellSecretPrefix(cellId)}*/gateway-token-??????`),
      logGroups: nagArn('logs', `log-group:${logGroup}`),
      logStreams: nagArn('logs', `log-group:${logGroup}:log-stream:*`),
    },
  };
}

/** ECS ARNs of the cell cluster's tenant services, tasks and task definitions (this cell's names only). */
export function ecsArns(stack: Stack, clusterName: string, cellId: string) {
  const f = (resource: string, resourceName: string) =>
    stack.formatArn({ service: 'ecs', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const prefix = cellNamePrefix(cellId);
  return {
    cluster: f('cluster', clusterName),
    services: f('service', `${clusterName}/${prefix}*`),
    tasks: f('task', `${clusterName}/*`),
    taskDefinitions: f('task-definition', `${prefix}*:*`),
    nag: {
      services: nagArn('ecs', `service/${clusterName}/${prefix}*`),
      tasks: nagArn('ecs', `task/${clusterName}/*`),
      taskDefinitions: nagArn('ecs', `task-definition/${prefix}*:*`),
    },
  };
}
