/**
 * Issue 13.4: one tenant's directory restored from an AWS Backup recovery point, and exported, through
 * the local cloud (real RestoreTenant / ExportTenant / SuspendTenant / ResumeTenant ASL, real handlers,
 * DynamoDB Local). A REAL temporary directory is the file system's root: the fake AWS Backup copies it
 * into a recovery point and restores items into `aws-backup-restore_<datetime>/` off it, so the swap is
 * proven on real files, owners and modes. Runs as root (chown to the tenant's uid), as CI does.
 */
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CELL, localStateMachineArn } from '../local-cloud/env';
import { startLocalCloud, type LocalCloud } from '../local-cloud/local-cloud';
import { provision } from './support';
import { cliWith, localCloudCliEnv } from '../cli/support';

const root = mkdtempSync(join(tmpdir(), 'octw-restore-efs-'));
const VAULT = 'octw-local-tenants';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/0b0b0b0b-1111-2222-3333-444455556666';
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startLocalCloud({
    env: {
      TENANTS_MOUNT_PATH: join(root, 'tenants'),
      BACKUP_JSON: JSON.stringify({
        vaultName: VAULT,
        restoreRoleArn: 'arn:aws:iam::123456789012:role/octw-local-backup-restore',
        fileSystemMountPath: root,
        resumeStateMachineArn: localStateMachineArn('ResumeTenant'),
      }),
    },
  });
  cloud.fake.backup.setFileSystemRoot(LOCAL_CELL.fileSystemId, root);
  cloud.fake.s3.createBucket('octw-exports');
});
afterAll(async () => {
  await cloud.stop();
  rmSync(root, { recursive: true, force: true });
});

const stateFile = (id: string) => join(root, 'tenants', id, 'state', 'openclaw.sqlite');

/** The tenant's directory as the gateway leaves it: owned by its uid/gid, 0700. */
function writeState(id: string, uid: number, content: string) {
  mkdirSync(join(root, 'tenants', id, 'state'), { recursive: true, mode: 0o700 });
  writeFileSync(stateFile(id), content);
  for (const p of [join(root, 'tenants', id), join(root, 'tenants', id, 'state'), stateFile(id)]) chownSync(p, uid, uid);
}

async function run(machine: 'RestoreTenant' | 'ExportTenant', input: unknown, name: string) {
  const { executionArn } = await cloud.sfn.startExecution(machine, input, name);
  const out = await cloud.sfn.waitForExecution(executionArn);
  await cloud.settle();
  return out;
}

const leftoversAtRoot = () => readdirSync(root).filter((n) => n.startsWith('aws-backup-restore_'));
const stagingLeftovers = () => readdirSync(join(root, 'tenants')).filter((n) => n.startsWith('.'));

describe('restore one tenant from an AWS Backup recovery point', () => {
  let uid: number;
  let point: string;

  beforeAll(async () => {
    const record = await provision(cloud, 'rest-a');
    expect(record?.status).toBe('ACTIVE');
    uid = record!.uid!;
    writeState('rest-a', uid, 'tokens v1');
    point = cloud.fake.backup.createRecoveryPoint(LOCAL_CELL.fileSystemId, VAULT);
    writeFileSync(stateFile('rest-a'), 'tokens v2 (corrupted)');
  });

  it('suspends the ACTIVE tenant, restores its directory, verifies and swaps it in, and resumes it', async () => {
    const out = await run('RestoreTenant', { tenantId: 'rest-a', recoveryPointArn: point }, 'restore-rest-a-1');
    expect(out.status).toBe('SUCCEEDED');
    expect(readFileSync(stateFile('rest-a'), 'utf8')).toBe('tokens v1');
    expect(statSync(join(root, 'tenants', 'rest-a')).uid).toBe(uid);
    expect(statSync(stateFile('rest-a')).uid).toBe(uid);
    expect((await cloud.tenant('rest-a'))?.status).toBe('ACTIVE');
    const names = cloud.sfn.list().map((e) => e.name);
    expect(names.some((n) => n.startsWith('suspend-rest-a-'))).toBe(true);
    expect(names.some((n) => n.startsWith('resume-rest-a-'))).toBe(true);
    // The job restored only the tenant's directory, and nothing is left at the root or beside it.
    const job = [...cloud.fake.backup.jobs.values()].at(-1);
    expect(job?.items).toEqual(['/tenants/rest-a']);
    expect(leftoversAtRoot()).toEqual([]);
    expect(stagingLeftovers()).toEqual([]);
    const start = cloud.fake.calls.find((c) => c.operation === 'StartRestoreJob');
    expect(start?.input).toMatchObject({ ResourceType: 'EFS', Metadata: { 'file-system-id': LOCAL_CELL.fileSystemId, newFileSystem: 'false', ItemsToRestore: '["/tenants/rest-a"]' } });
  });

  it('leaves the current data in place and the tenant ACTIVE again when the restore job fails', async () => {
    writeFileSync(stateFile('rest-a'), 'tokens v3');
    cloud.fake.backup.failNextRestore('Access denied to the file system');
    const out = await run('RestoreTenant', { tenantId: 'rest-a', recoveryPointArn: point }, 'restore-rest-a-2');
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('RestoreFailed');
    expect(readFileSync(stateFile('rest-a'), 'utf8')).toBe('tokens v3');
    expect((await cloud.tenant('rest-a'))?.status).toBe('ACTIVE');
  });

  it('refuses a restored copy not owned by the tenant (verification), keeping the current data, and a SUSPENDED tenant stays SUSPENDED', async () => {
    // A backup taken while the directory belonged to someone else (root): it must never be swapped in.
    chownSync(join(root, 'tenants', 'rest-a'), 0, 0);
    const foreign = cloud.fake.backup.createRecoveryPoint(LOCAL_CELL.fileSystemId, VAULT);
    chownSync(join(root, 'tenants', 'rest-a'), uid, uid);
    const { executionArn } = await cloud.sfn.startExecution('SuspendTenant', { tenantId: 'rest-a' }, 'suspend-rest-a-by-hand');
    await cloud.sfn.waitForExecution(executionArn);
    await cloud.settle();
    expect((await cloud.tenant('rest-a'))?.status).toBe('SUSPENDED');

    const out = await run('RestoreTenant', { tenantId: 'rest-a', recoveryPointArn: foreign }, 'restore-rest-a-3');
    expect(out.status).toBe('FAILED');
    expect(readFileSync(stateFile('rest-a'), 'utf8')).toBe('tokens v3');
    expect((await cloud.tenant('rest-a'))?.status).toBe('SUSPENDED');
    expect(stagingLeftovers()).toEqual([]);
    expect(leftoversAtRoot()).toEqual([]);
    // It was the verification that refused it, not some other failure.
    const history = JSON.stringify(cloud.sfn.history(out.executionArn));
    expect(history).toContain("restored directory is owned by 0:0, not by the tenant's");
  });

  it('refuses a recovery point that is not in the cell vault before changing anything', async () => {
    const out = await run('RestoreTenant', { tenantId: 'rest-a', recoveryPointArn: 'arn:aws:backup:us-east-1:123456789012:recovery-point:0000-unknown' }, 'restore-rest-a-4');
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('RestoreRefused');
    expect((await cloud.tenant('rest-a'))?.status).toBe('SUSPENDED');
  });
});

describe('export one tenant to an operator-named, SSE-KMS encrypted S3 location', () => {
  it('writes every file and a manifest, each object encrypted with the operator key', async () => {
    const out = await run('ExportTenant', { tenantId: 'rest-a', to: 's3://octw-exports/exports/rest-a', kmsKeyArn: KEY }, 'export-rest-a-1');
    expect(out.status).toBe('SUCCEEDED');
    const bucket = cloud.fake.s3.buckets.get('octw-exports')!;
    expect([...bucket.keys()].sort()).toEqual(['exports/rest-a/files/state/openclaw.sqlite', 'exports/rest-a/manifest.json']);
    for (const obj of bucket.values()) expect(obj).toMatchObject({ serverSideEncryption: 'aws:kms', kmsKeyId: KEY });
    expect(bucket.get('exports/rest-a/files/state/openclaw.sqlite')?.body.toString()).toBe('tokens v3');
    const manifest = JSON.parse(bucket.get('exports/rest-a/manifest.json')!.body.toString()) as { warning: string; files: { path: string; uid: number }[] };
    expect(manifest.warning).toContain('OAuth tokens in plain text');
    expect(manifest.files).toEqual([expect.objectContaining({ path: 'state/openclaw.sqlite', uid: (await cloud.tenant('rest-a'))!.uid })]);
  });

  it('refuses an export without a KMS key and writes nothing', async () => {
    const out = await run('ExportTenant', { tenantId: 'rest-a', to: 's3://octw-exports/plain', kmsKeyArn: null }, 'export-rest-a-2');
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('ExportRefused');
    expect([...cloud.fake.s3.buckets.get('octw-exports')!.keys()].filter((k) => k.startsWith('plain'))).toEqual([]);
    expect(existsSync(join(root, 'tenants', 'rest-a'))).toBe(true);
  });
});

describe('octw tenants restore | export', () => {
  const octw = cliWith(() => localCloudCliEnv(cloud));

  it('restores with --wait: the recovery point swapped in, the credential warning printed, the tenant back as it was', async () => {
    writeFileSync(stateFile('rest-a'), 'tokens v4');
    const uid = (await cloud.tenant('rest-a'))!.uid!;
    chownSync(stateFile('rest-a'), uid, uid);
    const point = cloud.fake.backup.createRecoveryPoint(LOCAL_CELL.fileSystemId, VAULT);
    writeFileSync(stateFile('rest-a'), 'tokens v5');
    const out = await octw('tenants', 'restore', 'rest-a', '--recovery-point', point, '--wait');
    expect(out.stderr).toContain('OAuth tokens in plain text');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('SUCCEEDED');
    expect(readFileSync(stateFile('rest-a'), 'utf8')).toBe('tokens v4');
    expect((await cloud.tenant('rest-a'))?.status).toBe('SUSPENDED');
  });

  it('refuses an export without --kms-key or to a location that is not s3://, before starting anything', async () => {
    const before = cloud.sfn.list().length;
    const noKey = await octw('tenants', 'export', 'rest-a', '--to', 's3://octw-exports/x');
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toContain('must be encrypted with a KMS key');
    const notS3 = await octw('tenants', 'export', 'rest-a', '--to', '/tmp/x', '--kms-key', KEY);
    expect(notS3.stderr).toContain('--to must be s3://');
    expect(cloud.sfn.list().length).toBe(before);
  });

  it('exports with --wait and --json, naming the workflow and carrying the warning', async () => {
    const out = await octw('tenants', 'export', 'rest-a', '--to', 's3://octw-exports/cli', '--kms-key', KEY, '--wait', '--json');
    expect(out.code).toBe(0);
    const doc = JSON.parse(out.stdout) as { status: string; workflow: string; warning: string };
    expect(doc).toMatchObject({ status: 'SUCCEEDED', workflow: 'ExportTenant' });
    expect(doc.warning).toContain('credentials');
    expect(cloud.fake.s3.object('octw-exports', 'cli/manifest.json')?.kmsKeyId).toBe(KEY);
  });
});
