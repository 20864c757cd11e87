/**
 * Public on-demand list prices used by the bench's cost figures (issue 14). One table, one Region:
 * US East (N. Virginia), us-east-1, as published on the AWS pricing pages, read 2026-12-02.
 * No free tier, no Savings Plans. Control-plane API calls of EC2, ECS, EFS, IAM, Bedrock
 * (inference-profile management) and CloudWatch Logs (CreateLogGroup, PutRetentionPolicy) are free.
 */
export const PRICES = {
  region: 'us-east-1',
  date: '2026-12-02',
  /** Step Functions Standard: per state transition ($0.025 per 1,000). */
  sfnTransition: 0.025 / 1000,
  /** Lambda on Arm (Graviton): per request ($0.20 per million) and per GB-second. */
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  /** DynamoDB on-demand: per write / read request unit ($0.625 / $0.125 per million), per GB-month stored. */
  ddbWriteUnit: 0.625 / 1e6,
  ddbReadUnit: 0.125 / 1e6,
  ddbGbMonth: 0.25,
  /** EventBridge custom events ($1.00 per million). */
  eventBridgeEvent: 1 / 1e6,
  /** Secrets Manager: per secret per month, per API call ($0.05 per 10,000). */
  secretMonth: 0.4,
  secretsManagerCall: 0.05 / 10_000,
  /** SSM Parameter Store: standard parameter (SecureString included) free to store; advanced $0.05/month. */
  ssmStandardParameterMonth: 0,
  ssmAdvancedParameterMonth: 0.05,
  /** KMS: requests ($0.03 per 10,000); the AWS-managed key aws/ssm has no monthly key charge. */
  kmsRequest: 0.03 / 10_000,
  /** CloudWatch Logs: ingestion per GB (standard class), storage per GB-month. */
  logsIngestGb: 0.5,
  logsStoreGbMonth: 0.03,
  /** CloudWatch: custom metric per month (first 10,000), GetMetricData per metric requested ($0.01 per 1,000). */
  customMetricMonth: 0.3,
  getMetricDataMetric: 0.01 / 1000,
  /** VPC: interface endpoint per AZ-hour and per GB; NAT gateway per hour and per GB processed. */
  interfaceEndpointAzHour: 0.01,
  interfaceEndpointGb: 0.01,
  natGatewayHour: 0.045,
  natGatewayGb: 0.045,
  /** Load balancers: per hour and per capacity unit-hour (ALB LCU, NLB NLCU). */
  albHour: 0.0225,
  albLcuHour: 0.008,
  nlbHour: 0.0225,
  nlbNlcuHour: 0.006,
  /** Fargate Linux/x86: per vCPU-hour and per GB-hour. */
  fargateVcpuHourX86: 0.04048,
  fargateGbHourX86: 0.004445,
} as const;

export const HOURS_PER_MONTH = 730;
