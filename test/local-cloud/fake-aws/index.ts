/** Public API of the AWS control-plane fake. See README.md in this folder. */
export { FakeAws } from './fake';
export { installFakeAws } from './install';
export type { FakeAwsConfig, FakeAwsOptions, VpcConfig, BucketConfig } from './config';
export { DEFAULT_ACCOUNT, DEFAULT_REGION, S3_PREFIX_LIST_ID, DYNAMODB_PREFIX_LIST_ID, AWS_MANAGED_PREFIX_LISTS, THROTTLE_GROUPS, resolveConfig } from './config';
export type { Clock, ResourceRef, ServiceName } from './core';
export { ManualClock, systemClock } from './core';
export type { FaultKind, FaultSpec } from './faults';
export type { TraceEntry } from './trace';
export { NotEmulatedError } from './errors';
export type { SecurityGroup, SecurityGroupRule } from './ec2';
export type { AccessPoint } from './efs';
export type { Role } from './iam';
export type { Secret } from './secrets';
export type { LogGroup } from './logs';
export type { FakeService, FakeTask, Deployment, TaskDefinitionRevision } from './ecs';
export type { TaskRuntime, TaskRuntimeContext, TaskRuntimeHandle, TaskRuntimeOptions, EfsVolumeMount } from './task-runtime';
export { HEALTH_CHECK_FAILED, ESSENTIAL_EXITED } from './task-runtime';
