/**
 * Amazon S3, PutObject only (a tenant export, issue 13.4), into buckets a test creates. Behaviour
 * and errors from the S3 API Reference and the client's modelled exceptions (@aws-sdk/client-s3
 * 3.1169.0): a missing bucket is NoSuchBucket (404); `ServerSideEncryption` "aws:kms" with an
 * `SSEKMSKeyId` is recorded as given, and a key id without "aws:kms" is InvalidArgument (400), as S3
 * answers it. The object body is kept, so a test reads back exactly what was written.
 */
import * as s3 from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { ResourceRef } from './core';
import type { EmulatedService, ServiceContext } from './context';
import { op } from './context';
import { meta, serviceError } from './errors';

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly serverSideEncryption?: string;
  readonly kmsKeyId?: string;
}

export class S3Fake implements EmulatedService {
  readonly name = 'S3' as const;
  readonly buckets = new Map<string, Map<string, StoredObject>>();

  constructor(private readonly ctx: ServiceContext) {}

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  object(bucket: string, key: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  readonly operations = {
    PutObject: op((i: s3.PutObjectCommandInput): s3.PutObjectCommandOutput => {
      const bucket = i.Bucket ? this.buckets.get(i.Bucket) : undefined;
      if (!bucket) throw new s3.NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: meta(404) });
      if (!i.Key) throw serviceError('S3', 'InvalidArgument', 'A key must be given.', 400);
      if (i.SSEKMSKeyId && i.ServerSideEncryption !== 'aws:kms' && i.ServerSideEncryption !== 'aws:kms:dsse') {
        throw serviceError('S3', 'InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', 400);
      }
      const raw = i.Body;
      const body = typeof raw === 'string' ? Buffer.from(raw) : raw instanceof Uint8Array ? Buffer.from(raw) : undefined;
      if (!body) throw new Error('S3 fake: only string and byte bodies are emulated');
      bucket.set(i.Key, {
        body,
        ...(i.ContentType ? { contentType: i.ContentType } : {}),
        ...(i.ServerSideEncryption ? { serverSideEncryption: i.ServerSideEncryption } : {}),
        ...(i.SSEKMSKeyId ? { kmsKeyId: i.SSEKMSKeyId } : {}),
      });
      return {
        $metadata: {},
        ETag: `"${createHash('md5').update(body).digest('hex')}"`,
        ...(i.ServerSideEncryption ? { ServerSideEncryption: i.ServerSideEncryption } : {}),
        ...(i.SSEKMSKeyId ? { SSEKMSKeyId: i.SSEKMSKeyId } : {}),
      };
    }),
  };

  resources(): ResourceRef[] {
    void this.ctx;
    return [];
  }
}
