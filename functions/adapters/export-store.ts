/**
 * Where a tenant's export goes (issue 13.4): an operator-named S3 location, every object encrypted
 * with the operator's KMS key (SSE-KMS). There is no unencrypted path: the key is required.
 * The export holds the tenant's OAuth tokens in plain text (OpenClaw's SQLite state): it is a
 * credential; the bucket's policy decides who may read it.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ValidationError } from '../domain/errors';
import { awsCall } from '../shared/aws-errors';

export interface ExportTarget {
  readonly bucket: string;
  readonly prefix: string;
  readonly kmsKeyArn: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KMS_KEY = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[0-9a-f-]{36}|alias\/[A-Za-z0-9/_-]+)$/;

/** `s3://bucket/prefix` and a KMS key ARN, checked; refuses anything unencrypted or malformed. */
export function parseExportTarget(url: string, kmsKeyArn: string | undefined): ExportTarget {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || !BUCKET.test(m[1]!)) throw new ValidationError(`--to must be s3://<bucket>/<prefix>, got "${url}"`);
  if (!kmsKeyArn) throw new ValidationError('an export must be encrypted with a KMS key (--kms-key ARN): the state directory holds OAuth tokens in plain text');
  if (!KMS_KEY.test(kmsKeyArn)) throw new ValidationError(`--kms-key must be a KMS key or alias ARN, got "${kmsKeyArn}"`);
  const prefix = m[2]!.replace(/\/+$/, '');
  if (prefix.split('/').some((part) => part === '..' || part === '.')) throw new ValidationError(`the prefix "${prefix}" must not contain "." or ".." segments`);
  return { bucket: m[1]!, prefix, kmsKeyArn };
}

export class ExportStore {
  constructor(private readonly s3: Pick<S3Client, 'send'>) {}

  async put(target: ExportTarget, key: string, body: Uint8Array | string, contentType = 'application/octet-stream'): Promise<string> {
    const fullKey = target.prefix ? `${target.prefix}/${key}` : key;
    await awsCall(`S3 PutObject s3://${target.bucket}/${fullKey}`, () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: fullKey,
          Body: body,
          ContentType: contentType,
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: target.kmsKeyArn,
        }),
      ),
    );
    return fullKey;
  }
}
