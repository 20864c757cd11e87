/** Secrets Manager secrets (metadata and value). Errors: Secrets Manager API Reference. */
import type * as sm from '@aws-sdk/client-secrets-manager';
import { InvalidNextTokenException, InvalidParameterException, InvalidRequestException, ResourceExistsException, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import type { ResourceRef, TagMap } from './core';
import { mergeTags, tagRecord, tagsFromKeyValue, toKeyValue } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta, NotEmulatedError } from './errors';

export interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  readonly tags: TagMap;
  readonly createdAt: number;
  /** The AWSCURRENT version and its value. */
  versionId: string;
  secretString?: string;
  /** The version PutSecretValue last moved AWSCURRENT away from (labelled AWSPREVIOUS). */
  previousVersionId?: string;
  /** Every version's value (versions without a label are kept, as AWS keeps them until cleaned up). */
  readonly versions: Map<string, string | undefined>;
  /** Set while scheduled for deletion (recoverable until then). */
  deletionDate?: number;
}

const DAY = 86_400_000;

export class SecretsFake implements EmulatedService {
  readonly name = 'SecretsManager' as const;
  readonly secrets = new Map<string, Secret>();

  constructor(private readonly ctx: ServiceContext) {}

  readonly operations = {
    CreateSecret: op((i: sm.CreateSecretCommandInput): sm.CreateSecretCommandOutput => this.create(i)),
    DescribeSecret: op((i: sm.DescribeSecretCommandInput): sm.DescribeSecretCommandOutput => this.describe(i)),
    DeleteSecret: op((i: sm.DeleteSecretCommandInput): sm.DeleteSecretCommandOutput => this.delete(i)),
    RestoreSecret: op((i: sm.RestoreSecretCommandInput): sm.RestoreSecretCommandOutput => {
      const s = this.must(i.SecretId);
      delete s.deletionDate;
      return { $metadata: {}, ARN: s.arn, Name: s.name };
    }),
    GetRandomPassword: op((i: sm.GetRandomPasswordCommandInput): sm.GetRandomPasswordCommandOutput => ({
      $metadata: {},
      RandomPassword: this.randomPassword(i),
    })),
    PutSecretValue: op((i: sm.PutSecretValueCommandInput): sm.PutSecretValueCommandOutput => this.putValue(i)),
    GetSecretValue: op((i: sm.GetSecretValueCommandInput): sm.GetSecretValueCommandOutput => this.getValue(i)),
    ListSecrets: op((i: sm.ListSecretsCommandInput): sm.ListSecretsCommandOutput => this.list(i)),
    TagResource: op((i: sm.TagResourceCommandInput): sm.TagResourceCommandOutput => {
      const s = this.must(i.SecretId);
      mergeTags(s.tags, tagsFromKeyValue(i.Tags));
      return { $metadata: {} };
    }),
  };

  /** Secrets past their deletion date are gone for good (evaluated lazily). */
  private purgeExpired(): void {
    const now = this.ctx.now();
    for (const [k, s] of this.secrets) if (s.deletionDate !== undefined && now >= s.deletionDate) this.secrets.delete(k);
  }

  private find(id: string | undefined): Secret | undefined {
    this.purgeExpired();
    if (!id) return undefined;
    return this.secrets.get(id) ?? [...this.secrets.values()].find((s) => s.arn === id || s.arn.slice(0, -7) === id);
  }

  private must(id: string | undefined): Secret {
    const s = this.find(id);
    if (!s) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: meta(400) });
    return s;
  }

  private create(i: sm.CreateSecretCommandInput): sm.CreateSecretCommandOutput {
    const name = i.Name ?? '';
    const existing = this.find(name);
    if (existing) {
      if (existing.deletionDate !== undefined) {
        throw new InvalidRequestException({
          message: "You can't create this secret because a secret with this name is already scheduled for deletion.",
          $metadata: meta(400),
        });
      }
      // Same ClientRequestToken and same value: the request is ignored and succeeds
      // (CreateSecret, ClientRequestToken: "the request is ignored"). Otherwise the name is taken.
      if (i.ClientRequestToken !== undefined && i.ClientRequestToken === existing.versionId && i.SecretString === existing.secretString) {
        return { $metadata: {}, ARN: existing.arn, Name: existing.name, VersionId: existing.versionId };
      }
      throw new ResourceExistsException({ message: `The operation failed because the secret ${name} already exists.`, $metadata: meta(400) });
    }
    const versionId = i.ClientRequestToken ?? this.ctx.rng.uuid();
    const secret: Secret = {
      name,
      // Secret ARNs end in a hyphen and six random characters (Secrets Manager User Guide, "ARN").
      arn: `arn:aws:secretsmanager:${this.ctx.config.region}:${this.ctx.config.account}:secret:${name}-${this.ctx.rng.alnum(6)}`,
      ...(i.Description !== undefined ? { description: i.Description } : {}),
      ...(i.KmsKeyId !== undefined ? { kmsKeyId: i.KmsKeyId } : {}),
      tags: tagsFromKeyValue(i.Tags),
      createdAt: this.ctx.now(),
      versionId,
      ...(i.SecretString !== undefined ? { secretString: i.SecretString } : {}),
      versions: new Map([[versionId, i.SecretString]]),
    };
    this.secrets.set(name, secret);
    return { $metadata: {}, ARN: secret.arn, Name: name, VersionId: versionId };
  }

  /**
   * ListSecrets (API Reference: ListSecrets, Filter): metadata only, by CreatedDate; secrets scheduled
   * for deletion only with IncludePlannedDeletion. Filters: `name`, `tag-key`, `tag-value` (prefix,
   * case-sensitive; a value starting with "!" negates), `description` (prefix, not case-sensitive); a
   * secret must match every filter and, within one, any value. MaxResults 1-100 (else
   * InvalidParameterException); a NextToken not from a previous answer: InvalidNextTokenException.
   */
  private list(i: sm.ListSecretsCommandInput): sm.ListSecretsCommandOutput {
    this.purgeExpired();
    const max = i.MaxResults ?? 100;
    if (max < 1 || max > 100) throw new InvalidParameterException({ message: 'MaxResults must be between 1 and 100.', $metadata: meta(400) });
    const filters = i.Filters ?? [];
    for (const f of filters) {
      if (!f.Key || !['description', 'name', 'tag-key', 'tag-value'].includes(f.Key)) {
        if (f.Key && ['primary-region', 'owning-service', 'all'].includes(f.Key)) throw new NotEmulatedError('SecretsManager', `ListSecrets filter ${f.Key}`);
        throw new InvalidParameterException({ message: `Invalid filter key: ${f.Key ?? ''}`, $metadata: meta(400) });
      }
      if (!f.Values || f.Values.length < 1 || f.Values.length > 10) throw new InvalidParameterException({ message: 'A filter needs 1 to 10 values.', $metadata: meta(400) });
    }
    const matches = (secret: Secret, key: string, value: string): boolean => {
      const negate = value.startsWith('!');
      const v = negate ? value.slice(1) : value;
      const fields =
        key === 'name' ? [secret.name] : key === 'tag-key' ? [...secret.tags.keys()] : key === 'tag-value' ? [...secret.tags.values()] : [secret.description ?? ''];
      const hit = key === 'description' ? fields.some((x) => x.toLowerCase().startsWith(v.toLowerCase())) : fields.some((x) => x.startsWith(v));
      return negate ? !hit : hit;
    };
    const all = [...this.secrets.values()]
      .filter((s) => i.IncludePlannedDeletion === true || s.deletionDate === undefined)
      .filter((s) => filters.every((f) => f.Values!.some((v) => matches(s, f.Key!, v))))
      .sort((a, b) => (i.SortOrder === 'desc' ? b.createdAt - a.createdAt : a.createdAt - b.createdAt) || a.name.localeCompare(b.name));
    let start = 0;
    if (i.NextToken !== undefined) {
      const m = /^fake-list:(\d+)$/.exec(i.NextToken);
      if (!m) throw new InvalidNextTokenException({ message: 'The NextToken value is invalid.', $metadata: meta(400) });
      start = Number(m[1]);
    }
    const page = all.slice(start, start + max);
    return {
      $metadata: {},
      SecretList: page.map((s) => ({
        ARN: s.arn,
        Name: s.name,
        ...(s.description !== undefined ? { Description: s.description } : {}),
        CreatedDate: new Date(s.createdAt),
        ...(s.deletionDate !== undefined ? { DeletedDate: new Date(s.deletionDate) } : {}),
        Tags: toKeyValue(s.tags),
      })),
      ...(start + max < all.length ? { NextToken: `fake-list:${start + max}` } : {}),
    };
  }

  private describe(i: sm.DescribeSecretCommandInput): sm.DescribeSecretCommandOutput {
    const s = this.must(i.SecretId);
    return {
      $metadata: {},
      ARN: s.arn,
      Name: s.name,
      ...(s.description !== undefined ? { Description: s.description } : {}),
      ...(s.kmsKeyId !== undefined ? { KmsKeyId: s.kmsKeyId } : {}),
      CreatedDate: new Date(s.createdAt),
      ...(s.deletionDate !== undefined ? { DeletedDate: new Date(s.deletionDate) } : {}),
      Tags: toKeyValue(s.tags),
      VersionIdsToStages: {
        [s.versionId]: ['AWSCURRENT'],
        ...(s.previousVersionId !== undefined ? { [s.previousVersionId]: ['AWSPREVIOUS'] } : {}),
      },
    };
  }

  /**
   * A new version, labelled AWSCURRENT (the former current one becomes AWSPREVIOUS). A version id
   * (ClientRequestToken) that exists with the same value is ignored; with another value it is
   * ResourceExistsException. A secret scheduled for deletion refuses it (InvalidRequestException).
   */
  private putValue(i: sm.PutSecretValueCommandInput): sm.PutSecretValueCommandOutput {
    const s = this.must(i.SecretId);
    if (s.deletionDate !== undefined) {
      throw new InvalidRequestException({
        message: "You can't perform this operation on the secret because it was marked for deletion.",
        $metadata: meta(400),
      });
    }
    const versionId = i.ClientRequestToken ?? this.ctx.rng.uuid();
    if (s.versions.has(versionId)) {
      if (s.versions.get(versionId) !== i.SecretString) {
        throw new ResourceExistsException({ message: "You can't modify an existing version, you can only create a new version.", $metadata: meta(400) });
      }
    } else {
      s.versions.set(versionId, i.SecretString);
      if (s.versionId !== versionId) s.previousVersionId = s.versionId;
      s.versionId = versionId;
      if (i.SecretString !== undefined) s.secretString = i.SecretString;
      else delete s.secretString;
    }
    return { $metadata: {}, ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: ['AWSCURRENT'] };
  }

  /**
   * A secret's value by name, full ARN or partial ARN, AWSCURRENT unless a stage or version id is
   * asked for. AWS's errors: ResourceNotFoundException (no such secret, or no such version/stage),
   * InvalidRequestException (marked for deletion), InvalidParameterException (both VersionId and a
   * stage that does not name it).
   */
  private getValue(i: sm.GetSecretValueCommandInput): sm.GetSecretValueCommandOutput {
    const s = this.must(i.SecretId);
    if (s.deletionDate !== undefined) {
      throw new InvalidRequestException({
        message: "You can't perform this operation on the secret because it was marked for deletion.",
        $metadata: meta(400),
      });
    }
    const stageOf = (v: string) => (v === s.versionId ? 'AWSCURRENT' : v === s.previousVersionId ? 'AWSPREVIOUS' : undefined);
    let versionId = s.versionId;
    if (i.VersionId !== undefined) versionId = i.VersionId;
    else if (i.VersionStage !== undefined) {
      const byStage = i.VersionStage === 'AWSCURRENT' ? s.versionId : i.VersionStage === 'AWSPREVIOUS' ? s.previousVersionId : undefined;
      if (byStage === undefined) {
        throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: " + i.VersionStage, $metadata: meta(400) });
      }
      versionId = byStage;
    }
    if (i.VersionId !== undefined && i.VersionStage !== undefined && stageOf(i.VersionId) !== i.VersionStage) {
      throw new InvalidParameterException({ message: 'The parameter VersionId and VersionStage do not refer to the same version.', $metadata: meta(400) });
    }
    if (!s.versions.has(versionId)) {
      throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for VersionId: " + versionId, $metadata: meta(400) });
    }
    const value = s.versions.get(versionId);
    const stage = stageOf(versionId);
    return {
      $metadata: {},
      ARN: s.arn,
      Name: s.name,
      VersionId: versionId,
      ...(value !== undefined ? { SecretString: value } : {}),
      VersionStages: stage ? [stage] : [],
      CreatedDate: new Date(s.createdAt),
    };
  }

  private delete(i: sm.DeleteSecretCommandInput): sm.DeleteSecretCommandOutput {
    const s = this.must(i.SecretId);
    if (i.ForceDeleteWithoutRecovery && i.RecoveryWindowInDays !== undefined) {
      throw new InvalidParameterException({
        message: "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        $metadata: meta(400),
      });
    }
    const now = this.ctx.now();
    if (i.ForceDeleteWithoutRecovery) {
      this.secrets.delete(s.name);
      return { $metadata: {}, ARN: s.arn, Name: s.name, DeletionDate: new Date(now) };
    }
    const days = i.RecoveryWindowInDays ?? 30;
    if (days < 7 || days > 30) {
      throw new InvalidParameterException({ message: 'RecoveryWindowInDays value must be between 7 and 30 days (inclusive).', $metadata: meta(400) });
    }
    if (s.deletionDate === undefined) s.deletionDate = now + days * DAY;
    return { $metadata: {}, ARN: s.arn, Name: s.name, DeletionDate: new Date(s.deletionDate) };
  }

  private randomPassword(i: sm.GetRandomPasswordCommandInput): string {
    const length = i.PasswordLength ?? 32;
    let chars = '';
    if (!i.ExcludeLowercase) chars += 'abcdefghijklmnopqrstuvwxyz';
    if (!i.ExcludeUppercase) chars += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    if (!i.ExcludeNumbers) chars += '0123456789';
    if (!i.ExcludePunctuation) chars += '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
    if (i.IncludeSpace) chars += ' ';
    for (const c of i.ExcludeCharacters ?? '') chars = chars.split(c).join('');
    if (!chars) throw new InvalidParameterException({ message: 'No characters left to build a password from.', $metadata: meta(400) });
    let out = '';
    for (let n = 0; n < length; n++) out += chars[Math.floor(this.ctx.rng.next() * chars.length)];
    return out;
  }

  resources(): ResourceRef[] {
    this.purgeExpired();
    return [...this.secrets.values()].map((s) => ({
      service: 'SecretsManager',
      type: 'AWS::SecretsManager::Secret',
      id: s.name,
      arn: s.arn,
      tags: tagRecord(s.tags),
      ...(s.deletionDate !== undefined ? { state: 'PendingDeletion' } : {}),
    }));
  }
}
