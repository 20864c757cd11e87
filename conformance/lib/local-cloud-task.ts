/**
 * A tenant's task as the local cloud registered it, read back from the AWS fake the way ECS would:
 * the registered task definition, the secrets ECS injects into it, and the tenant's proxy URL.
 */
import type * as ecs from '@aws-sdk/client-ecs';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import type { FakeAws } from '../../test/local-cloud/fake-aws';

/** The task definition revision the tenant's record names, as it was registered. */
export function registeredTaskDefinition(fake: FakeAws, record: TenantRecord): ecs.RegisterTaskDefinitionCommandInput {
  const m = /:task-definition\/([^:]+):(\d+)$/.exec(record.resources.taskDefinitionArn ?? '');
  const td = m ? fake.taskDefinition(m[1]!, Number(m[2])) : undefined;
  if (!td) throw new Error(`no registered task definition for ${record.tenantId}`);
  return td.input;
}

/** Every secret the task definition names, resolved from the fake's Secrets Manager as ECS does. */
export function injectedSecrets(fake: FakeAws, td: ecs.RegisterTaskDefinitionCommandInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of td.containerDefinitions ?? []) {
    for (const s of c.secrets ?? []) {
      const secret = [...fake.secrets.secrets.values()].find((x) => x.arn === s.valueFrom);
      if (!secret?.secretString) throw new Error(`secret ${s.valueFrom} not found`);
      out[s.valueFrom!] = secret.secretString;
    }
  }
  return out;
}

/** The tenant's proxy URL as the platform stored it (its egress-proxy secret). */
export function proxyUrlOf(fake: FakeAws, record: TenantRecord): string {
  const url = [...fake.secrets.secrets.values()].find((x) => x.arn === record.resources.proxySecretArn)?.secretString;
  if (!url) throw new Error(`tenant ${record.tenantId} has no proxy URL secret`);
  return url;
}
