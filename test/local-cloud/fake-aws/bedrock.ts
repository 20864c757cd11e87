/**
 * Amazon Bedrock application inference profiles (control plane). Behaviour and errors from the
 * Bedrock API Reference (CreateInferenceProfile, GetInferenceProfile, ListInferenceProfiles,
 * DeleteInferenceProfile, ListTagsForResource, TagResource) and the client's modelled exceptions
 * (@aws-sdk/client-bedrock 3.1164.0):
 * - CreateInferenceProfile: `inferenceProfileName` 1-64 of `([0-9a-zA-Z:.][ _-]?)+`, `modelSource.copyFrom`
 *   a foundation model or system inference profile ARN of the Region, else ValidationException; a name
 *   in use: ConflictException; over the account's quota of application profiles (default 1,000):
 *   ServiceQuotaExceededException; the same `clientRequestToken` with the same request returns the
 *   profile it created (idempotent), with another request ConflictException.
 * - Get/Delete: identifier = profile id or ARN; unknown: ResourceNotFoundException.
 * - ListTagsForResource/TagResource: `resourceARN`; unknown: ResourceNotFoundException.
 * - Throttling: ThrottlingException (HTTP 429), through the fake's token buckets and fault injection.
 */
import * as bedrock from '@aws-sdk/client-bedrock';
import type { ResourceRef, TagMap } from './core';
import { mergeTags, tagsFromLowerKeyValue, toLowerKeyValue, tagRecord } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta } from './errors';
import { paginate } from './ec2';

export interface InferenceProfile {
  readonly id: string;
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly copyFrom: string;
  readonly models: string[];
  readonly tags: TagMap;
  readonly createdAt: number;
  readonly clientRequestToken?: string;
  readonly requestKey: string;
}

/** Geographic prefixes of system-defined cross-Region profiles and the Regions each routes to. */
const GEO_REGIONS: Readonly<Record<string, readonly string[]>> = {
  us: ['us-east-1', 'us-east-2', 'us-west-2'],
  eu: ['eu-central-1', 'eu-west-1', 'eu-west-3', 'eu-north-1'],
  apac: ['ap-northeast-1', 'ap-southeast-1', 'ap-southeast-2'],
  global: ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-northeast-1'],
};

const NAME = /^([0-9a-zA-Z:.][ _-]?)+$/;
const TOKEN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}$/;

const validation = (message: string) => new bedrock.ValidationException({ message, $metadata: meta(400) });
const notFound = (message: string) => new bedrock.ResourceNotFoundException({ message, $metadata: meta(404) });
const conflict = (message: string) => new bedrock.ConflictException({ message, $metadata: meta(400) });

export class BedrockFake implements EmulatedService {
  readonly name = 'Bedrock' as const;
  readonly profiles = new Map<string, InferenceProfile>();

  constructor(private readonly ctx: ServiceContext) {}

  readonly operations = {
    CreateInferenceProfile: op((i: bedrock.CreateInferenceProfileCommandInput): bedrock.CreateInferenceProfileCommandOutput => {
      const name = i.inferenceProfileName ?? '';
      if (name.length < 1 || name.length > 64 || !NAME.test(name)) {
        throw validation(`1 validation error detected: Value '${name}' at 'inferenceProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ([0-9a-zA-Z:.][ _-]?)+`);
      }
      if (i.clientRequestToken !== undefined && !TOKEN.test(i.clientRequestToken)) {
        throw validation(`Value '${i.clientRequestToken}' at 'clientRequestToken' failed to satisfy constraint`);
      }
      const copyFrom = i.modelSource?.copyFrom ?? '';
      const models = this.modelsOf(copyFrom);
      const tags = tagsFromLowerKeyValue(i.tags);
      if (tags.size > 200) throw new bedrock.TooManyTagsException({ message: 'Too many tags', $metadata: meta(400) });
      const requestKey = JSON.stringify([name, i.description ?? '', copyFrom, [...tags].sort()]);
      if (i.clientRequestToken !== undefined) {
        const same = [...this.profiles.values()].find((p) => p.clientRequestToken === i.clientRequestToken);
        if (same) {
          if (same.requestKey !== requestKey) throw conflict('The client request token was already used with a different request.');
          return { $metadata: {}, inferenceProfileArn: same.arn, status: 'ACTIVE' };
        }
      }
      if ([...this.profiles.values()].some((p) => p.name === name)) {
        throw conflict(`An inference profile with the name ${name} already exists.`);
      }
      if (this.profiles.size >= this.ctx.config.limits.applicationInferenceProfiles) {
        throw new bedrock.ServiceQuotaExceededException({ message: 'The number of application inference profiles in this account has reached its limit.', $metadata: meta(400) });
      }
      const id = this.ctx.rng.alnum(12).toLowerCase();
      const arn = `arn:aws:bedrock:${this.ctx.config.region}:${this.ctx.config.account}:application-inference-profile/${id}`;
      this.profiles.set(id, {
        id,
        name,
        arn,
        ...(i.description !== undefined ? { description: i.description } : {}),
        copyFrom,
        models,
        tags,
        createdAt: this.ctx.now(),
        ...(i.clientRequestToken !== undefined ? { clientRequestToken: i.clientRequestToken } : {}),
        requestKey,
      });
      return { $metadata: {}, inferenceProfileArn: arn, status: 'ACTIVE' };
    }),
    GetInferenceProfile: op((i: bedrock.GetInferenceProfileCommandInput): bedrock.GetInferenceProfileCommandOutput => {
      const p = this.must(i.inferenceProfileIdentifier);
      return { $metadata: {}, ...this.summary(p) };
    }),
    ListInferenceProfiles: op((i: bedrock.ListInferenceProfilesCommandInput): bedrock.ListInferenceProfilesCommandOutput => {
      if (i.maxResults !== undefined && (i.maxResults < 1 || i.maxResults > 1000)) throw validation('maxResults must be between 1 and 1000');
      // The fake holds application profiles only; system-defined ones are not listed.
      const all = i.typeEquals === 'SYSTEM_DEFINED' ? [] : [...this.profiles.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
      const { page, next } = paginate(all, i.maxResults ?? 1000, i.nextToken);
      return { $metadata: {}, inferenceProfileSummaries: page.map((p) => this.summary(p)), ...(next ? { nextToken: next } : {}) };
    }),
    DeleteInferenceProfile: op((i: bedrock.DeleteInferenceProfileCommandInput): bedrock.DeleteInferenceProfileCommandOutput => {
      const p = this.must(i.inferenceProfileIdentifier);
      this.profiles.delete(p.id);
      return { $metadata: {} };
    }),
    ListTagsForResource: op((i: bedrock.ListTagsForResourceCommandInput): bedrock.ListTagsForResourceCommandOutput => {
      const p = this.byArn(i.resourceARN);
      return { $metadata: {}, tags: toLowerKeyValue(p.tags) };
    }),
    TagResource: op((i: bedrock.TagResourceCommandInput): bedrock.TagResourceCommandOutput => {
      const p = this.byArn(i.resourceARN);
      mergeTags(p.tags, tagsFromLowerKeyValue(i.tags));
      return { $metadata: {} };
    }),
  };

  /** Foundation-model ARNs a profile copied from `copyFrom` routes to; ValidationException for anything else. */
  private modelsOf(copyFrom: string): string[] {
    const { region, account } = this.ctx.config;
    const fm = /^arn:aws:bedrock:([a-z0-9-]+)::foundation-model\/([A-Za-z0-9.:-]+)$/.exec(copyFrom);
    if (fm) {
      if (fm[1] !== region) throw validation(`The model ${copyFrom} is not in this Region (${region}).`);
      return [copyFrom];
    }
    const sys = /^arn:aws:bedrock:([a-z0-9-]+):(\d{12}):inference-profile\/([a-z]+)\.([A-Za-z0-9.:-]+)$/.exec(copyFrom);
    if (sys && sys[1] === region && sys[2] === account && GEO_REGIONS[sys[3]!]?.includes(region)) {
      return GEO_REGIONS[sys[3]!]!.map((r) => `arn:aws:bedrock:${r}::foundation-model/${sys[4]!}`);
    }
    throw validation(`The provided model source ${copyFrom} is not a foundation model or a system-defined inference profile of ${region}.`);
  }

  private summary(p: InferenceProfile): bedrock.InferenceProfileSummary {
    return {
      inferenceProfileName: p.name,
      ...(p.description !== undefined ? { description: p.description } : {}),
      createdAt: new Date(p.createdAt),
      updatedAt: new Date(p.createdAt),
      inferenceProfileArn: p.arn,
      models: p.models.map((modelArn) => ({ modelArn })),
      inferenceProfileId: p.id,
      status: 'ACTIVE',
      type: 'APPLICATION',
    };
  }

  private must(identifier: string | undefined): InferenceProfile {
    const p = identifier ? (this.profiles.get(identifier) ?? [...this.profiles.values()].find((x) => x.arn === identifier)) : undefined;
    if (!p) throw notFound(`The inference profile ${identifier ?? ''} does not exist.`);
    return p;
  }

  private byArn(arn: string | undefined): InferenceProfile {
    const p = [...this.profiles.values()].find((x) => x.arn === arn);
    if (!p) throw notFound(`The resource ${arn ?? ''} does not exist.`);
    return p;
  }

  resources(): ResourceRef[] {
    return [...this.profiles.values()].map((p) => ({ service: 'Bedrock', type: 'AWS::Bedrock::ApplicationInferenceProfile', id: p.id, arn: p.arn, tags: tagRecord(p.tags) }));
  }
}
