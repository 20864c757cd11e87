/** octw execution naming and refusals (pure): the deterministic names the workflows rely on. */
import { planExecution, readableCause } from '../../infra/cli/operations';
import { RefusedError } from '../../infra/cli/errors';
import type { TenantRecord } from '../../functions/domain/tenant-record';
import type { TenantStatus } from '../../functions/domain/tenant';

const SM = (name: string) => `arn:aws:states:eu-west-1:111122223333:stateMachine:octw-cell-1-${name}`;
const EXEC = (name: string, exec: string) => `arn:aws:states:eu-west-1:111122223333:execution:octw-cell-1-${name}:${exec}`;

function record(status: TenantStatus, overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    pk: 'TENANT#acme-tools',
    sk: 'META',
    tenantId: 'acme-tools',
    status,
    version: 7,
    generation: 2,
    cell: 'cell-1',
    displayName: 'ACME Tools',
    ownerEmail: 'ops@acme-tools.example',
    plan: 'standard',
    egressAllowlist: [],
    hostAllowlist: [],
    configHash: 'h',
    resources: {},
    transitions: {},
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-02T00:00:00.000Z',
    ...overrides,
  };
}

describe('planExecution', () => {
  it('names a reprovision after the next generation and refuses any tenant that is not FAILED', () => {
    expect(planExecution('reprovision', 'acme-tools', record('FAILED'), SM('provision-tenant'))).toEqual({ kind: 'start', name: 'provision-acme-tools-g3' });
    expect(
      planExecution('reprovision', 'acme-tools', record('PROVISIONING', { executionArn: EXEC('provision-tenant', 'provision-acme-tools-g2') }), SM('provision-tenant')),
    ).toEqual({ kind: 'running', name: 'provision-acme-tools-g2', executionArn: EXEC('provision-tenant', 'provision-acme-tools-g2') });
    for (const status of ['ACTIVE', 'DEPROVISIONED', 'REQUESTED', 'PURGED'] as const) {
      expect(() => planExecution('reprovision', 'acme-tools', record(status), SM('provision-tenant'))).toThrow(/only a FAILED tenant can be re-provisioned/);
    }
    expect(() => planExecution('reprovision', 'acme-tools', undefined, SM('provision-tenant'))).toThrow(RefusedError);
  });

  it('names a first provision generation 1, a FAILED tenant the next generation, a REQUESTED one its own', () => {
    expect(planExecution('provision', 'acme-tools', undefined, SM('provision-tenant'))).toEqual({ kind: 'start', name: 'provision-acme-tools-g1' });
    expect(planExecution('provision', 'acme-tools', record('FAILED'), SM('provision-tenant'))).toEqual({ kind: 'start', name: 'provision-acme-tools-g3' });
    expect(planExecution('provision', 'acme-tools', record('REQUESTED'), SM('provision-tenant'))).toEqual({ kind: 'start', name: 'provision-acme-tools-g2' });
    expect(planExecution('provision', 'acme-tools', record('PROVISIONING'), SM('provision-tenant'))).toEqual({ kind: 'start', name: 'provision-acme-tools-g2' });
  });

  it.each(['ACTIVE', 'SUSPENDED', 'DEPROVISIONED', 'UPDATING'] as const)('refuses to provision a tenant that is %s', (status) => {
    expect(() => planExecution('provision', 'acme-tools', record(status), SM('provision-tenant'))).toThrow(RefusedError);
  });

  it.each([
    ['deprovision', 'ACTIVE'],
    ['deprovision', 'SUSPENDED'],
    ['deprovision', 'FAILED'],
    ['suspend', 'ACTIVE'],
    ['resume', 'SUSPENDED'],
    ['update', 'ACTIVE'],
    ['purge', 'DEPROVISIONED'],
  ] as const)('names %s of a %s tenant <operation>-<id>-v<version>', (operation, status) => {
    const retention = operation === 'purge' ? { dataRetainedUntil: '2026-01-01T00:00:00.000Z' } : {};
    expect(planExecution(operation, 'acme-tools', record(status, retention), SM(`${operation}-tenant`))).toEqual({
      kind: 'start',
      name: `${operation}-acme-tools-v7`,
    });
  });

  it.each([
    ['deprovision', 'PROVISIONING'],
    ['suspend', 'SUSPENDED'],
    ['resume', 'ACTIVE'],
    ['update', 'SUSPENDED'],
    ['purge', 'ACTIVE'],
    ['purge', 'PURGED'],
  ] as const)('refuses to %s a %s tenant, naming the allowed statuses', (operation, status) => {
    expect(() => planExecution(operation, 'acme-tools', record(status), SM(`${operation}-tenant`))).toThrow(
      new RegExp(`refusing to ${operation} tenant "acme-tools": it is ${status}; ${operation} is allowed from`),
    );
  });

  it('refuses to purge before the retention ends unless asked for immediate erasure', () => {
    const now = Date.parse('2026-11-25T00:00:00.000Z');
    const retained = record('DEPROVISIONED', { dataRetainedUntil: '2026-12-25T00:00:00.000Z' });
    expect(() => planExecution('purge', 'acme-tools', retained, SM('purge-tenant'), { immediate: false, now })).toThrow(
      /retained until 2026-12-25T00:00:00.000Z; give --immediate/,
    );
    expect(() => planExecution('purge', 'acme-tools', record('DEPROVISIONED'), SM('purge-tenant'), { immediate: false, now })).toThrow(
      /retained until \(unknown\)/,
    );
    expect(planExecution('purge', 'acme-tools', retained, SM('purge-tenant'), { immediate: true, now })).toEqual({
      kind: 'start',
      name: 'purge-acme-tools-v7',
    });
    expect(planExecution('purge', 'acme-tools', retained, SM('purge-tenant'), { immediate: false, now: Date.parse('2026-12-25T00:00:00.001Z') })).toEqual({
      kind: 'start',
      name: 'purge-acme-tools-v7',
    });
  });

  it('refuses an operation on a tenant that does not exist as not found', () => {
    try {
      planExecution('suspend', 'acme-tools', undefined, SM('suspend-tenant'));
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(RefusedError);
      expect((err as RefusedError).name).toBe('TenantNotFoundError');
    }
  });

  it('reports the execution that holds the tenant when the same operation is already running', () => {
    const held = record('SUSPENDING', { executionArn: EXEC('suspend-tenant', 'suspend-acme-tools-v6') });
    expect(planExecution('suspend', 'acme-tools', held, SM('suspend-tenant'))).toEqual({
      kind: 'running',
      name: 'suspend-acme-tools-v6',
      executionArn: EXEC('suspend-tenant', 'suspend-acme-tools-v6'),
    });
  });

  it('refuses an operation while another workflow holds the tenant', () => {
    const held = record('UPDATING', { executionArn: EXEC('update-tenant', 'update-acme-tools-v6') });
    expect(() => planExecution('suspend', 'acme-tools', held, SM('suspend-tenant'))).toThrow(/it is UPDATING/);
  });
});

describe('readableCause', () => {
  it('shows the type and message of a Lambda error cause, and other causes as they are', () => {
    expect(readableCause(JSON.stringify({ errorType: 'GatewayUnhealthyError', errorMessage: 'no healthy task', trace: [] }))).toBe(
      'GatewayUnhealthyError: no healthy task',
    );
    expect(readableCause('plain text')).toBe('plain text');
  });
});
