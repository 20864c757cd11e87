/**
 * Route 53: hosted zones (seeded) and their record sets, through ChangeResourceRecordSets and
 * ListResourceRecordSets. Behaviour from the Route 53 API Reference:
 * - a change batch is atomic: any failing change fails the whole batch, nothing applied;
 * - CREATE of an existing (name, type): `InvalidChangeBatch` "Tried to create resource record set
 *   [name='…', type='A'] but it already exists"; DELETE must match the existing record exactly,
 *   else `InvalidChangeBatch` "… but it was not found"; UPSERT creates or replaces;
 * - unknown zone: `NoSuchHostedZone` (404); a name outside the zone: `InvalidChangeBatch`;
 * - records per hosted zone: 10,000 by default (Route 53 quotas), refused with `InvalidChangeBatch`
 *   (message as the quota error is reported; the exact wording is unconfirmed);
 * - names are stored fully qualified with a trailing dot, compared case-insensitively.
 */
import type { Rng } from './core';
import { stableStringify } from './core';
import type { IngressResourceRef } from './ingress-errors';
import { r53Error } from './ingress-errors';

export interface RecordSet {
  Name?: string;
  Type?: string;
  TTL?: number;
  ResourceRecords?: { Value?: string }[];
  AliasTarget?: { HostedZoneId?: string; DNSName?: string; EvaluateTargetHealth?: boolean };
}

export interface FakeHostedZone {
  readonly id: string;
  readonly name: string;
  readonly records: Map<string, RecordSet>;
}

export const DEFAULT_RECORDS_PER_ZONE = 10_000;

function fqdn(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n : `${n}.`;
}

export class Route53Fake {
  readonly name = 'Route53' as const;
  readonly zones = new Map<string, FakeHostedZone>();

  constructor(
    private readonly rng: Rng,
    readonly recordsPerZone: number = DEFAULT_RECORDS_PER_ZONE,
  ) {}

  addHostedZone(id: string, name: string): FakeHostedZone {
    const zone: FakeHostedZone = { id, name: fqdn(name), records: new Map() };
    this.zones.set(id, zone);
    return zone;
  }

  readonly operations: Readonly<Record<string, (input: never) => unknown>> = {
    ChangeResourceRecordSets: (i: { HostedZoneId?: string; ChangeBatch?: { Changes?: { Action?: string; ResourceRecordSet?: RecordSet }[] } }) => this.change(i),
    ListResourceRecordSets: (i: { HostedZoneId?: string; StartRecordName?: string; StartRecordType?: string; MaxItems?: number }) => {
      const zone = this.mustZone(i.HostedZoneId);
      const all = [...zone.records.values()].sort((a, b) => (a.Name! < b.Name! ? -1 : a.Name! > b.Name! ? 1 : a.Type! < b.Type! ? -1 : 1));
      const startName = i.StartRecordName ? fqdn(i.StartRecordName) : undefined;
      const from = startName ? all.findIndex((r) => r.Name! >= startName && (!i.StartRecordType || r.Name! > startName || r.Type! >= i.StartRecordType)) : 0;
      const slice = from < 0 ? [] : all.slice(from);
      const max = i.MaxItems ?? 300;
      const page = slice.slice(0, max);
      const next = slice[max];
      return {
        ResourceRecordSets: structuredClone(page),
        IsTruncated: next !== undefined,
        MaxItems: max,
        ...(next ? { NextRecordName: next.Name, NextRecordType: next.Type } : {}),
      };
    },
  };

  private mustZone(id: string | undefined): FakeHostedZone {
    const bare = id?.replace(/^\/hostedzone\//, '');
    const zone = bare ? this.zones.get(bare) : undefined;
    if (!zone) throw r53Error('NoSuchHostedZone', `No hosted zone found with ID: ${bare ?? ''}`, 404);
    return zone;
  }

  private change(i: { HostedZoneId?: string; ChangeBatch?: { Changes?: { Action?: string; ResourceRecordSet?: RecordSet }[] } }): unknown {
    const zone = this.mustZone(i.HostedZoneId);
    const changes = i.ChangeBatch?.Changes ?? [];
    if (changes.length === 0) throw r53Error('InvalidInput', 'Invalid request: Expected at least one change');
    // Apply to a copy: the batch is all or nothing.
    const next = new Map(zone.records);
    const problems: string[] = [];
    for (const c of changes) {
      const rr = c.ResourceRecordSet;
      if (!rr?.Name || !rr.Type) {
        problems.push('ResourceRecordSet needs a Name and a Type');
        continue;
      }
      const name = fqdn(rr.Name);
      if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
        problems.push(`RRSet with DNS name ${name} is not permitted in zone ${zone.name}`);
        continue;
      }
      const key = `${name}|${rr.Type}`;
      const record: RecordSet = { ...structuredClone(rr), Name: name };
      if (record.AliasTarget?.DNSName) record.AliasTarget.DNSName = fqdn(record.AliasTarget.DNSName);
      const existing = next.get(key);
      if (c.Action === 'CREATE') {
        if (existing) problems.push(`Tried to create resource record set [name='${name}', type='${rr.Type}'] but it already exists`);
        else next.set(key, record);
      } else if (c.Action === 'DELETE') {
        if (!existing || stableStringify(existing) !== stableStringify(record)) {
          problems.push(`Tried to delete resource record set [name='${name}', type='${rr.Type}'] but it was not found`);
        } else next.delete(key);
      } else if (c.Action === 'UPSERT') {
        next.set(key, record);
      } else {
        problems.push(`Unknown action ${String(c.Action)}`);
      }
    }
    if (next.size > this.recordsPerZone) problems.push(`The hosted zone ${zone.id} would exceed its limit of ${this.recordsPerZone} records`);
    if (problems.length > 0) throw r53Error('InvalidChangeBatch', `[${problems.join(', ')}]`);
    zone.records.clear();
    for (const [k, v] of next) zone.records.set(k, v);
    return { ChangeInfo: { Id: `/change/C${this.rng.alnum(20).toUpperCase()}`, Status: 'PENDING', SubmittedAt: new Date(0) } };
  }

  record(zoneId: string, name: string, type = 'A'): RecordSet | undefined {
    return this.zones.get(zoneId)?.records.get(`${fqdn(name)}|${type}`);
  }

  resources(): IngressResourceRef[] {
    return [...this.zones.values()].flatMap((z) =>
      [...z.records.values()].map((r) => ({ service: 'Route53' as const, type: 'AWS::Route53::RecordSet', id: `${z.id}/${r.Name!}/${r.Type!}`, tags: {} })),
    );
  }
}
