/**
 * The proxy sidecar's loop: read the cell's tenant policies from their source, render the policy
 * map and the credential file, swap them atomically. Squid's policy helper (acl-helper.ts) and
 * basic_ncsa_auth re-read them on change: no `squid -k reconfigure` (squid.conf holds only global
 * settings, written once at start). Fails closed: before the first good read, and when the source
 * has been unreadable or invalid for longer than `maxStaleMs`, the map written is the empty policy
 * (every request denied).
 *
 * The source is an interface: `FilePolicySource` (tests, and a mounted file), `DynamoDbPolicySource`
 * (policy-source-dynamodb.ts, the cell's egress-policy table). One document per cell:
 * `{ version, tenants: [{ tenantId, credentialHash, rules }] }`.
 */
import { readFile } from 'node:fs/promises';
import * as z from '../shared/zod';
import { HostRuleSchema } from '../domain/egress-policy';
import { renderSquidConfig, renderTenantFiles, type SquidRenderOptions } from './squid-config';

export const CellEgressPolicySchema = z.strictObject({
    version: z.string().check(z.minLength(1)).check(z.maxLength(128)),
    tenants: z.array(z.strictObject({ tenantId: z.string(), credentialHash: z.string(), rules: z.array(HostRuleSchema) })),
  });
export type CellEgressPolicy = z.infer<typeof CellEgressPolicySchema>;

export interface PolicySource {
  /** The current document (unparsed: the sync validates it). Throws when unavailable. */
  load(): Promise<unknown>;
}

export interface SquidControl {
  /** Writes squid.conf (global settings; once, before Squid starts). */
  writeConfig(squidConf: string): Promise<void>;
  /** Swaps the credential file, then the policy map, each by write-to-temp + rename (never read half-written). */
  writeTenants(files: { passwd: string; policyMap: string }): Promise<void>;
}

export type SyncOutcome =
  | { state: 'applied'; version: string; tenants: number }
  | { state: 'unchanged'; version: string }
  | { state: 'kept-last-good'; error: string; staleMs: number }
  | { state: 'fail-closed'; error: string };

export const DENY_ALL_VERSION = '(deny-all)';

export class PolicySync {
  private appliedVersion: string | undefined;
  private lastGoodAt: number | undefined;
  private readonly startedAt: number;

  constructor(
    private readonly source: PolicySource,
    private readonly squid: SquidControl,
    private readonly render: SquidRenderOptions,
    private readonly opts: { maxStaleMs: number; now?: () => number },
  ) {
    this.startedAt = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** The configuration to start Squid with, and the empty policy: deny everything until the first good read. */
  async writeInitial(): Promise<void> {
    await this.squid.writeConfig(renderSquidConfig(this.render));
    await this.squid.writeTenants(renderTenantFiles([], DENY_ALL_VERSION));
    this.appliedVersion = DENY_ALL_VERSION;
  }

  async tick(): Promise<SyncOutcome> {
    let doc: CellEgressPolicy;
    let files: { passwd: string; policyMap: string };
    try {
      doc = CellEgressPolicySchema.parse(await this.source.load());
      if (doc.version === DENY_ALL_VERSION) throw new Error(`policy version "${DENY_ALL_VERSION}" is reserved`);
      if (doc.version === this.appliedVersion) {
        this.lastGoodAt = this.now();
        return { state: 'unchanged', version: doc.version };
      }
      files = renderTenantFiles(doc.tenants, doc.version);
    } catch (e) {
      const error = e instanceof z.core.$ZodError ? `invalid policy document: ${z.prettifyError(e)}` : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      const staleMs = this.now() - (this.lastGoodAt ?? this.startedAt);
      if (staleMs <= this.opts.maxStaleMs && this.appliedVersion !== undefined) return { state: 'kept-last-good', error, staleMs };
      if (this.appliedVersion !== DENY_ALL_VERSION) {
        await this.squid.writeTenants(renderTenantFiles([], DENY_ALL_VERSION));
        this.appliedVersion = DENY_ALL_VERSION;
      }
      return { state: 'fail-closed', error };
    }
    await this.squid.writeTenants(files);
    this.appliedVersion = doc.version;
    this.lastGoodAt = this.now();
    return { state: 'applied', version: doc.version, tenants: doc.tenants.length };
  }
}

/** A policy document in a file (a mounted volume, or tests). */
export class FilePolicySource implements PolicySource {
  constructor(private readonly file: string) {}
  async load(): Promise<unknown> {
    return JSON.parse(await readFile(this.file, 'utf8')) as unknown;
  }
}
