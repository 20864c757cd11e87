/**
 * Plug-in: replaces `send` on the prototypes of the emulated SDK v3 clients, so every instance,
 * including the ones handlers create at module scope, goes to the fake. DynamoDB (real
 * DynamoDB Local) and SFN (faked by the runner) are left alone.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ServiceName } from './core';
import type { FakeAws } from './fake';
import type { IngressServiceName } from './ingress-errors';

interface Patchable {
  prototype: object;
}

const CLIENTS: readonly (readonly [Patchable, ServiceName | IngressServiceName])[] = [
  [ElasticLoadBalancingV2Client, 'ELBv2'],
  [Route53Client, 'Route53'],
  [EC2Client, 'EC2'],
  [ECSClient, 'ECS'],
  [EFSClient, 'EFS'],
  [IAMClient, 'IAM'],
  [SecretsManagerClient, 'SecretsManager'],
  [CloudWatchLogsClient, 'CloudWatchLogs'],
  [EventBridgeClient, 'EventBridge'],
  [BedrockClient, 'Bedrock'],
  [CloudWatchClient, 'CloudWatch'],
];

let installed: FakeAws | undefined;

/** The SDK command name without the `Command` suffix: the API operation name. */
function operationOf(command: unknown): string {
  const name = (command as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? '';
  return name.endsWith('Command') ? name.slice(0, -'Command'.length) : name;
}

/** Routes the clients to `fake`; returns `uninstall()`. Only one fake can be installed at a time. */
export function installFakeAws(fake: FakeAws): () => void {
  if (installed) throw new Error('AWS fake: already installed; uninstall the previous one first');
  installed = fake;
  const restore: (() => void)[] = [];
  for (const [Client, service] of CLIENTS) {
    const proto = Client.prototype as { send?: unknown };
    const own = Object.getOwnPropertyDescriptor(proto, 'send');
    Object.defineProperty(proto, 'send', {
      configurable: true,
      writable: true,
      value(command: { input?: unknown }, optionsOrCb?: unknown, cb?: unknown): Promise<unknown> {
        if (typeof optionsOrCb === 'function' || typeof cb === 'function') {
          throw new Error(`AWS fake: callback-style ${service} send() is not supported; await the promise`);
        }
        if (service === 'ELBv2' || service === 'Route53') return fake.ingressCall(service, operationOf(command), command.input ?? {});
        return fake.call(service, operationOf(command), command.input ?? {});
      },
    });
    restore.push(() => {
      if (own) Object.defineProperty(proto, 'send', own);
      else delete proto.send;
    });
  }
  return () => {
    for (const r of restore) r();
    installed = undefined;
  };
}
