/** Test support (not a test): shared set-up for the AWS fake's fidelity tests: real SDK clients through the plug-in. */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EFSClient } from '@aws-sdk/client-efs';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FakeAwsOptions } from './config';
import { FakeAws } from './fake';
import { installFakeAws } from './install';
import { ManualClock } from './core';

const cfg = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

export const clients = {
  ec2: new EC2Client(cfg),
  ecs: new ECSClient(cfg),
  efs: new EFSClient(cfg),
  iam: new IAMClient(cfg),
  sm: new SecretsManagerClient(cfg),
  logs: new CloudWatchLogsClient(cfg),
};

export const VPC = 'vpc-0a1b2c3d4e5f60718';
export const FS = 'fs-0123456789abcdef0';
export const CLUSTER = 'octw-cell-1';

export interface Harness {
  fake: FakeAws;
  clock: ManualClock;
  uninstall: () => void;
}

/** A fake on a manual clock, throttling off unless asked, installed on the SDK clients. */
export function setUp(options: FakeAwsOptions = {}): Harness {
  const clock = new ManualClock();
  const fake = new FakeAws({ clock, throttling: { enabled: false }, ...options });
  const uninstall = installFakeAws(fake);
  return { fake, clock, uninstall };
}

/** Runs `fn` and returns the error it rejects with (fails the test if it resolves). */
export async function errorOf(fn: () => Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
