/**
 * Fidelity of the AWS Backup and S3 fakes (issue 13.4) through the real SDK clients: AWS's error
 * codes as the clients' own exception classes, the EFS item-level restore into
 * `aws-backup-restore_<datetime>/` off a real directory, idempotency tokens, and SSE-KMS on PutObject.
 */
import {
  BackupClient,
  DescribeRecoveryPointCommand,
  DescribeRestoreJobCommand,
  InvalidParameterValueException,
  MissingParameterValueException,
  ResourceNotFoundException,
  StartRestoreJobCommand,
} from '@aws-sdk/client-backup';
import { NoSuchBucket, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { errorOf, FS, setUp } from '../local-cloud/fake-aws/testing';

const cfg = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 };
const backup = new BackupClient(cfg);
const s3 = new S3Client(cfg);
const ROLE = 'arn:aws:iam::123456789012:role/restore';

let h: Harness;
let root: string;
beforeEach(() => {
  h = setUp();
  root = mkdtempSync(join(tmpdir(), 'octw-fake-fs-'));
  h.fake.backup.setFileSystemRoot(FS, root);
});
afterEach(() => {
  h.uninstall();
  rmSync(root, { recursive: true, force: true });
});

const restore = (point: string, meta: Record<string, string>, token?: string) =>
  backup.send(new StartRestoreJobCommand({ RecoveryPointArn: point, IamRoleArn: ROLE, ResourceType: 'EFS', Metadata: meta, ...(token ? { IdempotencyToken: token } : {}) }));

describe('AWS Backup', () => {
  it('restores the named items of a recovery point into aws-backup-restore_<datetime> off the root, and nothing else', async () => {
    mkdirSync(join(root, 'tenants', 'acme'), { recursive: true });
    mkdirSync(join(root, 'tenants', 'other'), { recursive: true });
    writeFileSync(join(root, 'tenants', 'acme', 'db'), 'v1');
    writeFileSync(join(root, 'tenants', 'other', 'db'), 'theirs');
    const point = h.fake.backup.createRecoveryPoint(FS, 'vault');
    writeFileSync(join(root, 'tenants', 'acme', 'db'), 'v2');

    const described = await backup.send(new DescribeRecoveryPointCommand({ BackupVaultName: 'vault', RecoveryPointArn: point }));
    expect(described).toMatchObject({ Status: 'COMPLETED', ResourceType: 'EFS', ResourceArn: `arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/${FS}` });

    const { RestoreJobId } = await restore(point, { 'file-system-id': FS, newFileSystem: 'false', ItemsToRestore: '["/tenants/acme"]' });
    const job = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId }));
    expect(job.Status).toBe('COMPLETED');
    const [dir] = readdirSync(root).filter((n) => n.startsWith('aws-backup-restore_'));
    expect(readFileSync(join(root, dir!, 'tenants', 'acme', 'db'), 'utf8')).toBe('v1');
    expect(readdirSync(join(root, dir!, 'tenants'))).toEqual(['acme']);
    expect(readFileSync(join(root, 'tenants', 'acme', 'db'), 'utf8')).toBe('v2');
  });

  it('answers the same job for the same IdempotencyToken', async () => {
    const point = h.fake.backup.createRecoveryPoint(FS, 'vault');
    const meta = { 'file-system-id': FS, newFileSystem: 'false', ItemsToRestore: '["/tenants/acme"]' };
    const a = await restore(point, meta, 'tok-1');
    const b = await restore(point, meta, 'tok-1');
    expect(b.RestoreJobId).toBe(a.RestoreJobId);
  });

  it('answers AWS errors: ResourceNotFoundException, InvalidParameterValueException, MissingParameterValueException', async () => {
    const point = h.fake.backup.createRecoveryPoint(FS, 'vault');
    expect(await errorOf(() => backup.send(new DescribeRecoveryPointCommand({ BackupVaultName: 'other-vault', RecoveryPointArn: point })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await errorOf(() => backup.send(new DescribeRestoreJobCommand({ RestoreJobId: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await errorOf(() => restore(point, { 'file-system-id': 'fs-unknown', newFileSystem: 'false', ItemsToRestore: '["/a"]' }))).toBeInstanceOf(InvalidParameterValueException);
    expect(await errorOf(() => restore(point, { 'file-system-id': FS, newFileSystem: 'false', ItemsToRestore: '["a","b","c","d","e","f"]' }))).toBeInstanceOf(InvalidParameterValueException);
    expect(await errorOf(() => backup.send(new StartRestoreJobCommand({ RecoveryPointArn: point, Metadata: {}, IamRoleArn: undefined })))).toBeInstanceOf(MissingParameterValueException);
  });

  it('runs a job for restoreJobMs on the fake clock, and ends it FAILED when told to', async () => {
    h.fake.backup.restoreJobMs = 60_000;
    const point = h.fake.backup.createRecoveryPoint(FS, 'vault');
    h.fake.backup.failNextRestore('Access denied');
    const { RestoreJobId } = await restore(point, { 'file-system-id': FS, newFileSystem: 'false', ItemsToRestore: '["/tenants/acme"]' });
    h.clock.advance(1);
    expect((await backup.send(new DescribeRestoreJobCommand({ RestoreJobId }))).Status).toBe('RUNNING');
    h.clock.advance(60_000);
    expect(await backup.send(new DescribeRestoreJobCommand({ RestoreJobId }))).toMatchObject({ Status: 'FAILED', StatusMessage: 'Access denied' });
  });
});

describe('S3 PutObject', () => {
  it('stores the object with its SSE-KMS settings; a missing bucket is NoSuchBucket', async () => {
    h.fake.s3.createBucket('exports');
    const key = 'arn:aws:kms:us-east-1:123456789012:key/0b0b0b0b-1111-2222-3333-444455556666';
    const out = await s3.send(new PutObjectCommand({ Bucket: 'exports', Key: 'a/b', Body: 'data', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key }));
    expect(out).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key });
    expect(h.fake.s3.object('exports', 'a/b')).toMatchObject({ serverSideEncryption: 'aws:kms', kmsKeyId: key });
    expect(await errorOf(() => s3.send(new PutObjectCommand({ Bucket: 'missing', Key: 'k', Body: 'x' })))).toBeInstanceOf(NoSuchBucket);
    const err = await errorOf(() => s3.send(new PutObjectCommand({ Bucket: 'exports', Key: 'k', Body: 'x', SSEKMSKeyId: key })));
    expect(err.name).toBe('InvalidArgument');
  });
});
