/**
 * The DynamoDB fault matrix of every workflow. DynamoDB Local is real but never fails; DynamoDB
 * does. Each DynamoDB call site of a clean run (the state that invoked the handler, and the
 * operation) is failed once in each way DynamoDB fails it (`test/local-cloud/dynamodb-faults.ts`):
 * throttled past the SDK's retries, a transaction conflict, a write applied whose response was lost
 * (retried by the SDK), and a write applied whose every response was lost (retried by Step
 * Functions). Every run must end as a clean run ends: the same status, exactly one of each
 * resource, one execution, no tenant in a transitional state.
 *
 * Used by test-slow/workflows/dynamodb-faults-*.test.ts, one file per kind.
 */
import { TRANSITIONAL_STATUSES } from '../../functions/domain/lifecycle';
import { SCHEDULED_DYNAMO_FAULT_KINDS, type ScheduledDynamoFaultKind } from '../local-cloud/dynamodb-faults';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import {
  ACTIVE_TENANT_RESOURCE_TYPES,
  executionsOf,
  expectCompleted,
  inputFor,
  provision,
  resourceTypes,
  runWorkflow,
  tenantReadyFor,
  type LifecycleWorkflow,
} from './support';

export type DynamoMatrixWorkflow = 'ProvisionTenant' | LifecycleWorkflow;

/** Every DynamoDB call site of a clean run of each workflow (checked against a real run by the throttle file). */
export const DYNAMO_CALL_SITES: Readonly<Record<DynamoMatrixWorkflow, readonly (readonly [site: string, operation: string])[]>> = {
  ProvisionTenant: [
    ['Intake', 'TransactWriteItems'],
    ['Register', 'GetItem'],
    ['Register', 'UpdateItem'],
    ['Register', 'TransactWriteItems'],
    ['EnsureSecurityGroup', 'GetItem'],
    ['EnsureAccessPoint', 'GetItem'],
    ['EnsureSecretAndLogGroup', 'GetItem'],
    ['EnsureEgressPolicy', 'GetItem'],
    ['EnsureEgressPolicy', 'TransactWriteItems'],
    ['EnsureSecretAndLogGroup', 'UpdateItem'],
    ['EnsureSecurityGroup', 'UpdateItem'],
    ['EnsureAccessPoint', 'UpdateItem'],
    ['EnsureTaskRole', 'GetItem'],
    ['EnsureEgressPolicy', 'UpdateItem'],
    ['EnsureTaskRole', 'UpdateItem'],
    ['RegisterTaskDefinition', 'GetItem'],
    ['RegisterTaskDefinition', 'UpdateItem'],
    ['CreateService', 'GetItem'],
    ['CreateService', 'UpdateItem'],
    ['WaitForGateway', 'GetItem'],
    ['WaitForGateway', 'UpdateItem'],
    ['GatewayEvents', 'GetItem'],
    ['GatewayEvents', 'UpdateItem'],
    ['Activate', 'GetItem'],
    ['Activate', 'TransactWriteItems'],
  ],
  SuspendTenant: [
    ['ClaimTenant', 'GetItem'],
    ['ClaimTenant', 'TransactWriteItems'],
    ['SetDesiredCount', 'GetItem'],
    ['WaitForSteady', 'GetItem'],
    ['MarkDone', 'GetItem'],
    ['MarkDone', 'TransactWriteItems'],
  ],
  ResumeTenant: [
    ['ClaimTenant', 'GetItem'],
    ['ClaimTenant', 'TransactWriteItems'],
    ['SetDesiredCount', 'GetItem'],
    ['WaitForSteady', 'GetItem'],
    ['WaitForSteady', 'UpdateItem'],
    ['GatewayEvents', 'GetItem'],
    ['GatewayEvents', 'UpdateItem'],
    ['MarkDone', 'GetItem'],
    ['MarkDone', 'TransactWriteItems'],
  ],
  UpdateTenant: [
    ['ClaimUpdate', 'GetItem'],
    ['ClaimUpdate', 'TransactWriteItems'],
    ['ApplySecurityGroupRules', 'GetItem'],
    ['ApplySecurityGroupRules', 'UpdateItem'],
    ['ApplyRolePolicy', 'GetItem'],
    ['ApplyRolePolicy', 'UpdateItem'],
    ['RegisterTaskDefinition', 'GetItem'],
    ['RegisterTaskDefinition', 'UpdateItem'],
    ['DeployRevision', 'GetItem'],
    ['WaitForRollout', 'GetItem'],
    ['WaitForRollout', 'UpdateItem'],
    ['GatewayEvents', 'GetItem'],
    ['GatewayEvents', 'UpdateItem'],
    ['MarkUpdated', 'GetItem'],
    ['MarkUpdated', 'TransactWriteItems'],
  ],
  DeprovisionTenant: [
    ['ClaimTenant', 'GetItem'],
    ['ClaimTenant', 'TransactWriteItems'],
    ['DeleteService', 'GetItem'],
    ['DeleteService', 'UpdateItem'],
    ['WaitForServiceDrained', 'GetItem'],
    ['DeleteTaskDefinitions', 'GetItem'],
    ['DeleteTaskDefinitions', 'UpdateItem'],
    ['DeleteTaskRole', 'GetItem'],
    ['DeleteTaskRole', 'UpdateItem'],
    ['DeleteSecret', 'GetItem'],
    ['DeleteSecret', 'UpdateItem'],
    ['DeleteEgressPolicy', 'GetItem'],
    ['DeleteEgressPolicy', 'TransactWriteItems'],
    ['DeleteEgressPolicy', 'UpdateItem'],
    ['DeleteAccessPoint', 'GetItem'],
    ['DeleteAccessPoint', 'UpdateItem'],
    ['DeleteSecurityGroup', 'GetItem'],
    ['DeleteSecurityGroup', 'UpdateItem'],
    ['MarkDeprovisioned', 'GetItem'],
    ['MarkDeprovisioned', 'TransactWriteItems'],
  ],
};

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** Which kinds a call can meet: a read is only throttled (a lost read response is just a retry, a read has no conflict). */
export const kindsFor = (operation: string): readonly ScheduledDynamoFaultKind[] =>
  WRITES.has(operation) ? SCHEDULED_DYNAMO_FAULT_KINDS : ['throttle'];

const SHORT: Record<DynamoMatrixWorkflow, string> = {
  ProvisionTenant: 'prv',
  DeprovisionTenant: 'dep',
  SuspendTenant: 'sus',
  ResumeTenant: 'res',
  UpdateTenant: 'upd',
};
const KIND: Record<ScheduledDynamoFaultKind, string> = { throttle: 'dthr', conflict: 'dcon', lostResponse: 'dlost', lostResponseAll: 'dlall' };

const siteKey = (c: { site: string; operation: string }) => `${c.site} ${c.operation}`;

export function describeDynamoFaultMatrix(kind: ScheduledDynamoFaultKind): void {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startLocalCloud({ dynamoFaults: { rate: 0 } });
  });
  afterAll(async () => {
    await cloud.stop();
  });

  const cases = (Object.keys(DYNAMO_CALL_SITES) as DynamoMatrixWorkflow[]).flatMap((workflow) =>
    DYNAMO_CALL_SITES[workflow]
      .map(([site, operation], index) => ({ workflow, site, operation, index }))
      .filter((c) => kindsFor(c.operation).includes(kind)),
  );

  describe.each(cases)(`DynamoDB ${kind} at $site $operation during $workflow`, ({ workflow, site, operation, index }) => {
    const tenantId = `${KIND[kind]}-${SHORT[workflow]}-${index}`;

    it('still ends as a clean run ends, with nothing extra', async () => {
      const faults = cloud.dynamoFaults!;
      const fired = faults.fired.length;
      if (workflow === 'ProvisionTenant') {
        faults.schedule({ site, operation, kind });
        const record = await provision(cloud, tenantId);
        expect(faults.fired.slice(fired)).toContainEqual(expect.objectContaining({ site, operation, kind, scheduled: true }));
        expect(record?.status).toBe('ACTIVE');
        expect(executionsOf(cloud, tenantId)).toHaveLength(1);
        expect(resourceTypes(cloud, tenantId)).toEqual(ACTIVE_TENANT_RESOURCE_TYPES);
        expect(cloud.fake.taskDefinition(`octw-local--${tenantId}`)?.revision).toBe(1);
        return;
      }
      await tenantReadyFor(cloud, workflow, tenantId);
      faults.schedule({ site, operation, kind });
      const done = await runWorkflow(cloud, workflow, inputFor(workflow, tenantId));
      expect(faults.fired.slice(fired)).toContainEqual(expect.objectContaining({ site, operation, kind, scheduled: true }));
      expect(TRANSITIONAL_STATUSES).not.toContain((await cloud.tenant(tenantId))?.status);
      expect(done.status).toBe('SUCCEEDED');
      await expectCompleted(cloud, workflow, tenantId);
    });
  });

  if (kind === 'throttle') {
    it.each(Object.keys(DYNAMO_CALL_SITES) as DynamoMatrixWorkflow[])('covers every DynamoDB call site of a clean %s run', async (workflow) => {
      const tenantId = `dbase-${SHORT[workflow]}`;
      const faults = cloud.dynamoFaults!;
      let from = faults.calls.length;
      if (workflow === 'ProvisionTenant') await provision(cloud, tenantId);
      else {
        await tenantReadyFor(cloud, workflow, tenantId);
        from = faults.calls.length;
        expect((await runWorkflow(cloud, workflow, inputFor(workflow, tenantId))).status).toBe('SUCCEEDED');
      }
      // The GatewayEvents function runs on ECS's events, whenever they arrive (possibly a setup step's,
      // possibly after the wait): its sites are listed where a wait depends on them, not required here;
      // a Check* step runs only when an event was late or lost.
      const timed = (site: string) => site === 'GatewayEvents' || site.startsWith('Check');
      const made = new Set(faults.calls.slice(from).filter((c) => !timed(c.site)).map(siteKey));
      expect([...made].sort()).toEqual(
        DYNAMO_CALL_SITES[workflow]
          .filter(([site]) => !timed(site))
          .map(([site, operation]) => siteKey({ site, operation }))
          .sort(),
      );
    });
  }
}
