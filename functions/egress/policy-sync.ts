/**
 * The proxy sidecar's loop: read the cell's tenant policies from their source, render Squid's
 * configuration, write it atomically, `squid -k reconfigure`. Fails closed: before the first good
 * read, and when the source has been unreadable or invalid for longer than `maxStaleMs`, the
 * configuration applied is the empty policy (every request denied).
 *
 * The source is an interface: `FilePolicySource` (tests, and a mounted file), `DynamoDbPolicySource`
 * (policy-source-dynamodb.ts, the cell's egress-policy table). One document per cell:
 * `{ version, tenants: [{ tenantId, credentialHash, rules }] }`.
 */
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { HostRuleSchema } from '../domain/egress-policy';
import { renderSquidConfig, type SquidRenderOptions } from './squid-config';

export const CellEgressPolicySchema = z
  .object({
    version: z.string().min(1).max(128),
    tenants: z.array(z.object({ tenantId: z.string(), credentialHash: z.string(), rules: z.array(HostRuleSchema) }).strict()),
  })
  .strict();
export type CellEgressPolicy = z.infer<typeof CellEgressPolicySchema>;

export interface PolicySource {
  /** The current document (unparsed: the sync validates it). Throws when unavailable. */
  load(): Promise<unknown>;
}

export interface SquidControl {
  /** Writes both files so that Squid never reads a half-written one (write to a temp name, rename). */
  write(files: { squidConf: string; passwd: string }): Promise<void>;
  /** `squid -k reconfigure` (a running Squid re-reads its configuration without dropping established tunnels). */
  reconfigure(): Promise<void>;
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

  /** The configuration to start Squid with: deny everything until the first good read. */
  async writeInitial(): Promise<void> {
    await this.squid.write(renderSquidConfig([], this.render));
    this.appliedVersion = DENY_ALL_VERSION;
  }

  async tick(): Promise<SyncOutcome> {
    let doc: CellEgressPolicy;
    let files: { squidConf: string; passwd: string };
    try {
      doc = CellEgressPolicySchema.parse(await this.source.load());
      if (doc.version === this.appliedVersion) {
        this.lastGoodAt = this.now();
        return { state: 'unchanged', version: doc.version };
      }
      files = renderSquidConfig(doc.tenants, this.render);
    } catch (e) {
      const error = e instanceof z.ZodError ? `invalid policy document: ${z.prettifyError(e)}` : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      const staleMs = this.now() - (this.lastGoodAt ?? this.startedAt);
      if (staleMs <= this.opts.maxStaleMs && this.appliedVersion !== undefined) return { state: 'kept-last-good', error, staleMs };
      if (this.appliedVersion !== DENY_ALL_VERSION) {
        await this.squid.write(renderSquidConfig([], this.render));
        await this.squid.reconfigure();
        this.appliedVersion = DENY_ALL_VERSION;
      }
      return { state: 'fail-closed', error };
    }
    await this.squid.write(files);
    await this.squid.reconfigure();
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
