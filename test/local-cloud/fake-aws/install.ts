/**
 * Plug-in: wraps `send` on the prototypes of the emulated SDK v3 clients, so every instance,
 * including the ones handlers create at module scope, goes to the fake. DynamoDB (real
 * DynamoDB Local) and SFN (faked by the runner) are left alone.
 *
 * Two layers, as in AWS:
 * - above the SDK: the fake's scheduled faults, which stand for an error the caller sees once the
 *   SDK has given up (the fault matrices inject them on the Nth call);
 * - below the SDK's own retry (a middleware placed right after `retryMiddleware`, where the signed
 *   HTTP request would leave): one attempt on the wire, with the service's rate limits and the
 *   random fault rate. The SDK's real standard retry strategy then retries what AWS's 5xx and
 *   throttling errors would make it retry, with its own backoff and retry quota.
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
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { BackupClient } from '@aws-sdk/client-backup';
import { S3Client } from '@aws-sdk/client-s3';
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
  [ServiceQuotasClient, 'ServiceQuotas'],
  [BackupClient, 'Backup'],
  [S3Client, 'S3'],
];

let installed: FakeAws | undefined;

/** The SDK command name without the `Command` suffix: the API operation name. */
function operationOf(command: unknown): string {
  const name = (command as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? '';
  return name.endsWith('Command') ? name.slice(0, -'Command'.length) : name;
}

/**
 * What one `send` hands to its attempts below the retry: the input as the caller sent it (some
 * clients' initialize middleware rewrites it, e.g. Route 53's id normaliser), carried in the
 * command's handler context from the first middleware of the stack.
 */
interface PendingSend {
  readonly operation: string;
  readonly input: object;
  readonly crashAfterSuccess: boolean;
}

const CONTEXT_KEY = '__octwFakeAwsSend';

interface MiddlewareStackLike {
  addRelativeTo(middleware: unknown, options: { relation: 'before' | 'after'; toMiddleware: string; name: string; override?: boolean }): void;
  add(middleware: unknown, options: { step: 'initialize'; priority: 'high'; name: string; override?: boolean }): void;
}

type Send = (this: unknown, command: unknown, options?: unknown) => Promise<unknown>;

const MIDDLEWARE_NAME = 'octwFakeAwsAttempt';
const ENTRY_MIDDLEWARE_NAME = 'octwFakeAwsSend';

/** Routes the clients to `fake`; returns `uninstall()`. Only one fake can be installed at a time. */
export function installFakeAws(fake: FakeAws): () => void {
  if (installed) throw new Error('AWS fake: already installed; uninstall the previous one first');
  installed = fake;
  const pending = new WeakMap<object, PendingSend>();
  const wired = new WeakSet<object>();
  const restore: (() => void)[] = [];
  for (const [Client, service] of CLIENTS) {
    const proto = Client.prototype as { send?: unknown };
    const own = Object.getOwnPropertyDescriptor(proto, 'send');
    const original = proto.send as Send;
    const ingress = service === 'ELBv2' || service === 'Route53';
    // First in the stack: puts this send's details in the handler context, which every step shares.
    const entry =
      () =>
      (next: (args: unknown) => Promise<unknown>, context: Record<string, unknown>) =>
      (args: { input?: object }): Promise<unknown> => {
        const send = args.input ? pending.get(args.input) : undefined;
        if (send) context[CONTEXT_KEY] = send;
        return next(args);
      };
    // One attempt on the wire: runs where the SDK would hand the signed request to the network.
    const attempt =
      () =>
      (_next: unknown, context: Record<string, unknown>) =>
      async (): Promise<{ output: unknown; response: unknown }> => {
        const send = context[CONTEXT_KEY] as PendingSend | undefined;
        if (!send) throw new Error(`AWS fake: a ${service} request reached the wire without going through send()`);
        const output = ingress
          ? await fake.ingressAttempt(service, send.operation, send.input, send.crashAfterSuccess)
          : await fake.attempt(service, send.operation, send.input, send.crashAfterSuccess);
        const body = (output ?? {}) as Record<string, unknown>;
        return { output: { ...body, $metadata: { httpStatusCode: 200, ...(body.$metadata as object | undefined) } }, response: { statusCode: 200, headers: {} } };
      };
    Object.defineProperty(proto, 'send', {
      configurable: true,
      writable: true,
      value(this: { middlewareStack: MiddlewareStackLike }, command: { input?: object }, optionsOrCb?: unknown, cb?: unknown): Promise<unknown> {
        if (typeof optionsOrCb === 'function' || typeof cb === 'function') {
          throw new Error(`AWS fake: callback-style ${service} send() is not supported; await the promise`);
        }
        const operation = operationOf(command);
        const input = command.input ?? {};
        let scheduled;
        try {
          scheduled = ingress ? fake.ingressScheduled(service, operation, input) : fake.scheduled(service, operation, input);
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
        if (!wired.has(this)) {
          this.middlewareStack.add(entry(), { step: 'initialize', priority: 'high', name: ENTRY_MIDDLEWARE_NAME, override: true });
          this.middlewareStack.addRelativeTo(attempt(), { relation: 'after', toMiddleware: 'retryMiddleware', name: MIDDLEWARE_NAME, override: true });
          wired.add(this);
        }
        if (command.input === undefined) command.input = input;
        pending.set(input, { operation, input, crashAfterSuccess: scheduled === 'crashAfterSuccess' });
        return original.call(this, command, optionsOrCb);
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
