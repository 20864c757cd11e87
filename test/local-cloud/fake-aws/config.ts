/**
 * Configuration of the AWS fake, with defaults and where each default comes from.
 */
import type { Clock, ServiceName } from './core';
import { systemClock } from './core';
import type { TraceEntry } from './trace';

export interface VpcConfig {
  readonly vpcId: string;
  readonly cidr: string;
  /** AWS relaxes some checks in a default VPC (e.g. revoking an unknown rule is not an error). */
  readonly isDefault?: boolean;
}

export interface BucketConfig {
  /** Bucket maximum capacity: the burst. */
  readonly burst: number;
  /** Tokens added per second: the sustained rate. */
  readonly refillPerSecond: number;
}

export interface FakeAwsConfig {
  readonly account: string;
  readonly region: string;
  readonly clock: Clock;
  /** Seed for ids and random faults: same seed, same ids. */
  readonly seed: number;
  readonly vpcs: readonly VpcConfig[];
  /** EFS file systems that exist (the platform creates them with CDK). */
  readonly fileSystemIds: readonly string[];
  /** ECS cluster names that exist. */
  readonly clusters: readonly string[];
  /** Multiplies every modelled latency below (0.01 = a hundred times faster than AWS). */
  readonly timeScale: number;
  readonly latencies: {
    /** Added to every call (awaited with a timer); default 0 so tests stay fast. */
    readonly perCallMs: number;
    /** Fargate task PENDING → RUNNING (image pull + start). AWS facts: commonly 30–90 s. */
    readonly taskStartMs: number;
    /** A task of a failing family turns UNHEALTHY this long after RUNNING, and is stopped. */
    readonly healthCheckFailMs: number;
    /** A deleted service stays DRAINING this long, then INACTIVE. */
    readonly serviceDrainMs: number;
    /** A stopped task's ENI is released this long after the task stops. */
    readonly eniReleaseMs: number;
    /** A new IAM role is refused by ECS for this long. AWS facts: retries of ~2–30 s are reported. */
    readonly iamPropagationMs: number;
    /** EFS access point LifeCycleState creating → available. */
    readonly accessPointCreateMs: number;
  };
  readonly throttling: {
    readonly enabled: boolean;
    /** Multiplies burst and refill of every bucket (e.g. 1000 for tests that must never be throttled). */
    readonly scale: number;
    /**
     * Multiplies refill only. When the rest of the model runs faster than AWS (timeScale 0.001,
     * retry pauses scaled alike), set it to 1 / timeScale so buckets refill at the same pace
     * relative to everything else; bursts stay as AWS has them.
     */
    readonly refillScale?: number;
    /** Per group overrides, keyed `Service:group` as in THROTTLE_GROUPS (e.g. `EC2:mutating`). */
    readonly buckets: Readonly<Record<string, BucketConfig>>;
  };
  readonly limits: {
    /** Rules per security group and direction. AWS: 60 inbound + 60 outbound (default quota). */
    readonly rulesPerSecurityGroupDirection: number;
    /** AWS: 10,000 access points per file system. */
    readonly accessPointsPerFileSystem: number;
    /** Max entries ("weight") of prefix lists by id, counted against the rule limit. */
    readonly prefixListMaxEntries: Readonly<Record<string, number>>;
    /** Bedrock application inference profiles per account and Region (AWS default quota: 1,000). */
    readonly applicationInferenceProfiles: number;
  };
  readonly efs: {
    /**
     * What a CreateAccessPoint with an already-used ClientToken returns.
     * `alreadyExists` (default): `AccessPointAlreadyExists` carrying the existing `AccessPointId`,
     *   whether or not the parameters match: this is what AWS has been observed to do
     *   (aws/aws-cli#6198 "aws efs create-access-point is not idempotent"; the EFS CSI driver adopts
     *   the access point named in AccessPointAlreadyExists, kubernetes-sigs/aws-efs-csi-driver#1620).
     * `idempotent`: same parameters → the same access point; different → `IdempotentParameterMismatch`.
     */
    readonly clientTokenReplay: 'alreadyExists' | 'idempotent';
  };
  /** Probability (0..1) that any call fails with a transient error (demo chaos). */
  readonly faultRate: number;
  readonly trace?: { readonly file?: string; readonly sink?: (entry: TraceEntry) => void };
}

export type FakeAwsOptions = Partial<Omit<FakeAwsConfig, 'latencies' | 'throttling' | 'limits' | 'efs'>> & {
  readonly latencies?: Partial<FakeAwsConfig['latencies']>;
  readonly throttling?: Partial<FakeAwsConfig['throttling']>;
  readonly limits?: Partial<FakeAwsConfig['limits']>;
  readonly efs?: Partial<FakeAwsConfig['efs']>;
};

export const DEFAULT_ACCOUNT = '123456789012';
export const DEFAULT_REGION = 'us-east-1';
export const S3_PREFIX_LIST_ID = 'pl-63a5400a';
/** The AWS-managed DynamoDB list of us-east-1 (`com.amazonaws.us-east-1.dynamodb`). */
export const DYNAMODB_PREFIX_LIST_ID = 'pl-02cd2c6b';
/** AWS-managed prefix lists the fake knows, by id: the service each stands for. */
export const AWS_MANAGED_PREFIX_LISTS: Readonly<Record<string, string>> = { [S3_PREFIX_LIST_ID]: 's3', [DYNAMODB_PREFIX_LIST_ID]: 'dynamodb' };

export function resolveConfig(options: FakeAwsOptions = {}): FakeAwsConfig {
  const region = options.region ?? DEFAULT_REGION;
  return {
    account: options.account ?? DEFAULT_ACCOUNT,
    region,
    clock: options.clock ?? systemClock,
    seed: options.seed ?? 1,
    // Copies: FakeAws.seedPlatform adds to them (a second cell of the same account).
    vpcs: [...(options.vpcs ?? [{ vpcId: 'vpc-0a1b2c3d4e5f60718', cidr: '10.0.0.0/16' }])],
    fileSystemIds: [...(options.fileSystemIds ?? ['fs-0123456789abcdef0'])],
    clusters: [...(options.clusters ?? ['octw-cell-1'])],
    timeScale: options.timeScale ?? 1,
    latencies: {
      perCallMs: 0,
      taskStartMs: 45_000,
      healthCheckFailMs: 30_000,
      serviceDrainMs: 30_000,
      eniReleaseMs: 60_000,
      iamPropagationMs: 10_000,
      accessPointCreateMs: 1_000,
      ...options.latencies,
    },
    throttling: { enabled: true, scale: 1, buckets: {}, ...options.throttling },
    limits: {
      rulesPerSecurityGroupDirection: 60,
      accessPointsPerFileSystem: 10_000,
      // AWS-managed prefix list weights: gateway-endpoint lists (S3, DynamoDB) weigh 1
      // (EC2 User Guide, "AWS-managed prefix lists", weight table).
      prefixListMaxEntries: { [S3_PREFIX_LIST_ID]: 1, [DYNAMODB_PREFIX_LIST_ID]: 1 },
      applicationInferenceProfiles: 1000,
      ...options.limits,
    },
    efs: { clientTokenReplay: 'alreadyExists', ...options.efs },
    faultRate: options.faultRate ?? 0,
    ...(options.trace ? { trace: options.trace } : {}),
  };
}

/**
 * Throttle groups: operation → bucket. Figures are AWS's published defaults per account and
 * Region; each row names its source. Where AWS publishes no figure the row says "estimate".
 */
export interface ThrottleGroup {
  readonly group: string;
  readonly bucket: BucketConfig;
}

// EC2: "Request throttling for the Amazon EC2 API" (EC2 Developer Guide): each API has its own
// bucket; mutating actions 50 burst / 5 per s, non-mutating (Describe*) 100 / 20.
const EC2_MUTATING: BucketConfig = { burst: 50, refillPerSecond: 5 };
const EC2_NON_MUTATING: BucketConfig = { burst: 100, refillPerSecond: 20 };
// ECS: "Request throttling for the Amazon ECS API" (ECS Developer Guide) throttles per action
// category with burst (bucket) and sustained (refill) rates. The page's example confirms cluster
// read = 50 burst; the category figures below are as recalled from its table (service read 100/20,
// service modify 50/5, task definition modify 20/1, task read 100/20) and task definition read is
// an estimate (20/10): confirm in the page or Service Quotas before relying on them.
const ECS_BUCKETS: Record<string, BucketConfig> = {
  serviceRead: { burst: 100, refillPerSecond: 20 },
  serviceModify: { burst: 50, refillPerSecond: 5 },
  taskDefinitionRead: { burst: 20, refillPerSecond: 10 },
  taskDefinitionModify: { burst: 20, refillPerSecond: 1 },
  taskRead: { burst: 100, refillPerSecond: 20 },
};
// Secrets Manager: "AWS Secrets Manager quotas" (User Guide): CreateSecret, DeleteSecret,
// RestoreSecret, TagResource, GetRandomPassword: 50 per second each (not adjustable);
// DescribeSecret 40,000 per second (What's New, 2025-03-04). Burst = rate (a one-second bucket).
const SM_50: BucketConfig = { burst: 50, refillPerSecond: 50 };
// CloudWatch Logs: "CloudWatch Logs quotas": CreateLogGroup 5 TPS, DeleteLogGroup 10 TPS,
// DescribeLogGroups 10 TPS, PutRetentionPolicy 5 TPS, TagResource 5 TPS (estimate for the last).
// IAM: AWS publishes no per-action rate for IAM; the control plane is known to throttle bursts
// of writes at a few per second: estimate 20 burst / 10 per s for writes, 50 / 20 for reads.
// EFS: no published per-action rate (only the CreateAccessPoint throttle near the quota):
// estimate 25 burst / 5 per s for writes, 50 / 20 for reads.
export const THROTTLE_GROUPS: Readonly<Record<ServiceName, Readonly<Record<string, ThrottleGroup>>>> = {
  EC2: {
    CreateSecurityGroup: { group: 'CreateSecurityGroup', bucket: EC2_MUTATING },
    AuthorizeSecurityGroupEgress: { group: 'AuthorizeSecurityGroupEgress', bucket: EC2_MUTATING },
    AuthorizeSecurityGroupIngress: { group: 'AuthorizeSecurityGroupIngress', bucket: EC2_MUTATING },
    RevokeSecurityGroupEgress: { group: 'RevokeSecurityGroupEgress', bucket: EC2_MUTATING },
    RevokeSecurityGroupIngress: { group: 'RevokeSecurityGroupIngress', bucket: EC2_MUTATING },
    DeleteSecurityGroup: { group: 'DeleteSecurityGroup', bucket: EC2_MUTATING },
    CreateTags: { group: 'CreateTags', bucket: EC2_MUTATING },
    DescribeSecurityGroups: { group: 'DescribeSecurityGroups', bucket: EC2_NON_MUTATING },
    DescribeSecurityGroupRules: { group: 'DescribeSecurityGroupRules', bucket: EC2_NON_MUTATING },
    DescribeManagedPrefixLists: { group: 'DescribeManagedPrefixLists', bucket: EC2_NON_MUTATING },
  },
  ECS: {
    CreateService: { group: 'serviceModify', bucket: ECS_BUCKETS.serviceModify! },
    UpdateService: { group: 'serviceModify', bucket: ECS_BUCKETS.serviceModify! },
    DeleteService: { group: 'serviceModify', bucket: ECS_BUCKETS.serviceModify! },
    DescribeServices: { group: 'serviceRead', bucket: ECS_BUCKETS.serviceRead! },
    ListServices: { group: 'serviceRead', bucket: ECS_BUCKETS.serviceRead! },
    RegisterTaskDefinition: { group: 'taskDefinitionModify', bucket: ECS_BUCKETS.taskDefinitionModify! },
    DeregisterTaskDefinition: { group: 'taskDefinitionModify', bucket: ECS_BUCKETS.taskDefinitionModify! },
    DeleteTaskDefinitions: { group: 'taskDefinitionModify', bucket: ECS_BUCKETS.taskDefinitionModify! },
    DescribeTaskDefinition: { group: 'taskDefinitionRead', bucket: ECS_BUCKETS.taskDefinitionRead! },
    ListTaskDefinitions: { group: 'taskDefinitionRead', bucket: ECS_BUCKETS.taskDefinitionRead! },
    ListTasks: { group: 'taskRead', bucket: ECS_BUCKETS.taskRead! },
    DescribeTasks: { group: 'taskRead', bucket: ECS_BUCKETS.taskRead! },
    TagResource: { group: 'tagging', bucket: { burst: 50, refillPerSecond: 5 } },
  },
  EFS: {
    CreateAccessPoint: { group: 'write', bucket: { burst: 25, refillPerSecond: 5 } },
    DeleteAccessPoint: { group: 'write', bucket: { burst: 25, refillPerSecond: 5 } },
    TagResource: { group: 'write', bucket: { burst: 25, refillPerSecond: 5 } },
    DescribeAccessPoints: { group: 'read', bucket: { burst: 50, refillPerSecond: 20 } },
    ListTagsForResource: { group: 'read', bucket: { burst: 50, refillPerSecond: 20 } },
  },
  IAM: Object.fromEntries(
    [
      ['CreateRole', 'write'],
      ['DeleteRole', 'write'],
      ['PutRolePolicy', 'write'],
      ['DeleteRolePolicy', 'write'],
      ['TagRole', 'write'],
      ['UntagRole', 'write'],
      ['GetRole', 'read'],
      ['GetRolePolicy', 'read'],
      ['ListRolePolicies', 'read'],
      ['ListRoleTags', 'read'],
      ['ListRoles', 'read'],
    ].map(([op, group]) => [
      op!,
      { group: group!, bucket: group === 'write' ? { burst: 20, refillPerSecond: 10 } : { burst: 50, refillPerSecond: 20 } },
    ]),
  ),
  SecretsManager: {
    CreateSecret: { group: 'CreateSecret', bucket: SM_50 },
    DeleteSecret: { group: 'DeleteSecret', bucket: SM_50 },
    RestoreSecret: { group: 'RestoreSecret', bucket: SM_50 },
    TagResource: { group: 'TagResource', bucket: SM_50 },
    GetRandomPassword: { group: 'GetRandomPassword', bucket: SM_50 },
    DescribeSecret: { group: 'DescribeSecret', bucket: { burst: 40_000, refillPerSecond: 40_000 } },
    // ListSecrets: 100 requests per second (Secrets Manager quotas).
    ListSecrets: { group: 'ListSecrets', bucket: { burst: 100, refillPerSecond: 100 } },
  },
  CloudWatchLogs: {
    CreateLogGroup: { group: 'CreateLogGroup', bucket: { burst: 5, refillPerSecond: 5 } },
    PutRetentionPolicy: { group: 'PutRetentionPolicy', bucket: { burst: 5, refillPerSecond: 5 } },
    DeleteLogGroup: { group: 'DeleteLogGroup', bucket: { burst: 10, refillPerSecond: 10 } },
    DescribeLogGroups: { group: 'DescribeLogGroups', bucket: { burst: 10, refillPerSecond: 10 } },
    TagResource: { group: 'TagResource', bucket: { burst: 5, refillPerSecond: 5 } },
    // As ListTagsLogGroup / DescribeLogGroups (CloudWatch Logs quotas: 10 transactions per second).
    ListTagsForResource: { group: 'ListTagsForResource', bucket: { burst: 10, refillPerSecond: 10 } },
  },
  // EventBridge PutEvents: 10,000 per second in us-east-1 (EventBridge quotas); never the bottleneck here.
  EventBridge: { PutEvents: { group: 'PutEvents', bucket: { burst: 10_000, refillPerSecond: 10_000 } } },
  // Bedrock control plane: the inference-profile APIs are low-rate (Service Quotas lists a few per
  // second for Create/Delete); modelled as 5 per second, reads 10.
  Bedrock: {
    CreateInferenceProfile: { group: 'CreateInferenceProfile', bucket: { burst: 5, refillPerSecond: 5 } },
    DeleteInferenceProfile: { group: 'DeleteInferenceProfile', bucket: { burst: 5, refillPerSecond: 5 } },
    GetInferenceProfile: { group: 'GetInferenceProfile', bucket: { burst: 10, refillPerSecond: 10 } },
    ListInferenceProfiles: { group: 'ListInferenceProfiles', bucket: { burst: 10, refillPerSecond: 10 } },
    ListTagsForResource: { group: 'ListTagsForResource', bucket: { burst: 10, refillPerSecond: 10 } },
    TagResource: { group: 'TagResource', bucket: { burst: 5, refillPerSecond: 5 } },
  },
  // CloudWatch GetMetricData: 50 transactions per second (CloudWatch service quotas).
  CloudWatch: { GetMetricData: { group: 'GetMetricData', bucket: { burst: 50, refillPerSecond: 50 } } },
  // Service Quotas Get* calls: modelled at 10 per second (the API throttles per account; no figure published).
  ServiceQuotas: {
    GetServiceQuota: { group: 'GetServiceQuota', bucket: { burst: 10, refillPerSecond: 10 } },
    GetAWSDefaultServiceQuota: { group: 'GetAWSDefaultServiceQuota', bucket: { burst: 10, refillPerSecond: 10 } },
  },
  // AWS Backup control plane: modelled at 10 per second (no figure published for these calls).
  Backup: {
    DescribeRecoveryPoint: { group: 'Describe', bucket: { burst: 10, refillPerSecond: 10 } },
    DescribeRestoreJob: { group: 'Describe', bucket: { burst: 10, refillPerSecond: 10 } },
    StartRestoreJob: { group: 'StartRestoreJob', bucket: { burst: 5, refillPerSecond: 5 } },
  },
  // S3: 3,500 PUT per second per prefix (S3 performance guidelines).
  S3: { PutObject: { group: 'PutObject', bucket: { burst: 3500, refillPerSecond: 3500 } } },
};
