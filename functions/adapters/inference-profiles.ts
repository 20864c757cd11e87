/**
 * The tenant's Amazon Bedrock application inference profiles: one per plan model, copied from the
 * foundation model (or the system cross-Region profile) and tagged `octw:cell`/`octw:tenant`, so
 * Bedrock's usage metrics and cost are attributed per tenant. A profile is adopted or deleted only
 * when its tags are this cell's and this tenant's and it routes to the model it is named for.
 */
import type { BedrockClient, InferenceProfileSummary } from '@aws-sdk/client-bedrock';
import {
  CreateInferenceProfileCommand,
  DeleteInferenceProfileCommand,
  ListInferenceProfilesCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-bedrock';
import { createHash } from 'node:crypto';
import { ForeignResourceError, QuotaExceededError, ResourceConflictError, TransientAwsError } from '../domain/errors';
import { bedrockModelSourceArn, inferenceProfileName, inferenceProfilePrefix } from '../domain/models';
import { ownershipProblems, tagsOf, tenantTags, type TenantRef } from '../domain/naming';
import { awsCall, classifyAwsError, hasAwsErrorCode } from '../shared/aws-errors';
import type { ArnParts } from './task-roles';

export interface InferenceProfilesConfig {
  cell: string;
  /** Partition, Region and account of the cell: profiles are created and called there. */
  arn: ArnParts;
}

/** The foundation model id a profile for `model` routes to (a cross-Region id without its geography). */
const baseModel = (model: string) => model.replace(/^(us|eu|apac|jp|au|ca|global)\./, '');

export class InferenceProfiles {
  constructor(
    private readonly bedrock: BedrockClient,
    private readonly cfg: InferenceProfilesConfig,
  ) {}

  /**
   * Makes the tenant's profiles exactly the plan's models: creates (or adopts) one per model,
   * deletes the tenant's profiles for models the plan no longer names. Returns model → profile ARN.
   */
  async reconcile(t: TenantRef, models: readonly string[]): Promise<Record<string, string>> {
    this.sameCell(t);
    const existing = await this.listOf(t);
    const out: Record<string, string> = {};
    for (const model of models) {
      const name = inferenceProfileName(t, model);
      const found = existing.find((p) => p.inferenceProfileName === name);
      out[model] = found ? await this.adopt(found, t, model) : await this.create(t, model);
    }
    const wanted = new Set(models.map((m) => inferenceProfileName(t, m)));
    for (const p of existing) if (!wanted.has(p.inferenceProfileName ?? '')) await this.deleteOne(p, t);
    return out;
  }

  /** Deletes every profile of the tenant (its own tags only). */
  async deleteAll(t: TenantRef): Promise<number> {
    this.sameCell(t);
    const existing = await this.listOf(t);
    for (const p of existing) await this.deleteOne(p, t);
    return existing.length;
  }

  private async create(t: TenantRef, model: string): Promise<string> {
    const name = inferenceProfileName(t, model);
    const copyFrom = bedrockModelSourceArn(model, this.cfg.arn);
    try {
      const out = await this.bedrock.send(
        new CreateInferenceProfileCommand({
          inferenceProfileName: name,
          description: `OCTW tenant ${t.tenantId} of cell ${t.cell}: ${model}`,
          modelSource: { copyFrom },
          // Deterministic: a retry after a crash that followed a successful create gets the same profile.
          clientRequestToken: createHash('sha256').update(`${name}\n${copyFrom}`).digest('hex').slice(0, 64),
          tags: tenantTags(t.tenantId, t.cell),
        }),
      );
      if (!out.inferenceProfileArn) throw new TransientAwsError(`Bedrock CreateInferenceProfile returned no ARN for ${name}`);
      await this.verifyTags(out.inferenceProfileArn, name, t);
      return out.inferenceProfileArn;
    } catch (err) {
      if (hasAwsErrorCode(err, 'ConflictException')) {
        // Created meanwhile (or by someone else): adopt it only if it is ours.
        const found = (await this.listOf(t)).find((p) => p.inferenceProfileName === name);
        if (!found) throw new ForeignResourceError(`Bedrock inference profile ${name} exists but is not tenant "${t.tenantId}"'s; not touching it`, { cause: err });
        return this.adopt(found, t, model);
      }
      if (hasAwsErrorCode(err, 'ServiceQuotaExceededException')) {
        throw new QuotaExceededError(`Bedrock application inference profiles: the account's quota is reached (tenant "${t.tenantId}")`, { cause: err });
      }
      if (err instanceof ForeignResourceError || err instanceof TransientAwsError) throw err;
      throw classifyAwsError(err, 'Bedrock CreateInferenceProfile');
    }
  }

  /** A profile found under the tenant's name is used only if its tags are ours and it routes to the model. */
  private async adopt(p: InferenceProfileSummary, t: TenantRef, model: string): Promise<string> {
    const arn = p.inferenceProfileArn;
    if (!arn) throw new TransientAwsError(`Bedrock inference profile ${p.inferenceProfileName ?? '?'} has no ARN yet`);
    await this.verifyTags(arn, p.inferenceProfileName ?? arn, t);
    const routes = (p.models ?? []).map((m) => m.modelArn ?? '');
    if (p.type !== 'APPLICATION' || routes.length === 0 || !routes.every((r) => r.endsWith(`:foundation-model/${baseModel(model)}`))) {
      throw new ResourceConflictError(`Bedrock inference profile ${p.inferenceProfileName ?? arn} of tenant "${t.tenantId}" does not route to ${model} (${routes.join(', ')})`);
    }
    return arn;
  }

  private async deleteOne(p: InferenceProfileSummary, t: TenantRef): Promise<void> {
    const arn = p.inferenceProfileArn;
    if (!arn) return;
    try {
      await this.verifyTags(arn, p.inferenceProfileName ?? arn, t);
      await this.bedrock.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: arn }));
    } catch (err) {
      if (hasAwsErrorCode(err, 'ResourceNotFoundException')) return;
      if (err instanceof ForeignResourceError) throw err;
      throw classifyAwsError(err, 'Bedrock DeleteInferenceProfile');
    }
  }

  private async verifyTags(arn: string, name: string, t: TenantRef): Promise<void> {
    const out = await awsCall('Bedrock ListTagsForResource', () => this.bedrock.send(new ListTagsForResourceCommand({ resourceARN: arn })));
    const foreign = ownershipProblems(tagsOf(out.tags), t);
    if (foreign.length > 0) {
      throw new ForeignResourceError(`Bedrock inference profile ${name} is not tenant "${t.tenantId}" of cell "${t.cell}" (${foreign.join(', ')}); not touching it`);
    }
  }

  /** The account's application profiles named with the tenant's prefix. */
  private async listOf(t: TenantRef): Promise<InferenceProfileSummary[]> {
    const prefix = inferenceProfilePrefix(t);
    const found: InferenceProfileSummary[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall('Bedrock ListInferenceProfiles', () =>
        this.bedrock.send(new ListInferenceProfilesCommand({ typeEquals: 'APPLICATION', maxResults: 1000, ...(nextToken ? { nextToken } : {}) })),
      );
      found.push(...(page.inferenceProfileSummaries ?? []).filter((p) => p.inferenceProfileName?.startsWith(prefix)));
      nextToken = page.nextToken;
    } while (nextToken);
    return found;
  }

  private sameCell(t: TenantRef): void {
    if (t.cell !== this.cfg.cell) throw new ForeignResourceError(`tenant "${t.tenantId}" is of cell "${t.cell}", not this cell "${this.cfg.cell}"`);
  }
}
