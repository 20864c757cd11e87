/**
 * Fidelity of the Bedrock fake (application inference profiles) through the real SDK client:
 * the operations the platform calls, and AWS's error codes (ValidationException,
 * ConflictException, ResourceNotFoundException, ServiceQuotaExceededException, ThrottlingException)
 * as the client's own exception classes with their HTTP status.
 */
import {
  BedrockClient,
  ConflictException,
  CreateInferenceProfileCommand,
  DeleteInferenceProfileCommand,
  GetInferenceProfileCommand,
  ListInferenceProfilesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import type { Harness } from '../local-cloud/fake-aws/testing';
import { errorOf, setUp } from '../local-cloud/fake-aws/testing';

const bedrock = new BedrockClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const FM = `arn:aws:bedrock:us-east-1::foundation-model/${SONNET}`;
const TAGS = [{ key: 'octw:tenant', value: 'acme' }, { key: 'octw:cell', value: 'cell-1' }];
const create = (name: string, copyFrom = FM, extra: Record<string, unknown> = {}) =>
  bedrock.send(new CreateInferenceProfileCommand({ inferenceProfileName: name, modelSource: { copyFrom }, tags: TAGS, ...extra }));

let h: Harness;
afterEach(() => h.uninstall());

describe('Bedrock application inference profiles', () => {
  beforeEach(() => {
    h = setUp();
  });

  it('creates a profile copied from a foundation model; Get, List and ListTagsForResource return it; Delete removes it', async () => {
    const { inferenceProfileArn, status } = await create('octw-cell-1.acme.0a1b2c3d');
    expect(status).toBe('ACTIVE');
    expect(inferenceProfileArn).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:application-inference-profile\/[a-z0-9]{12}$/);
    const got = await bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: inferenceProfileArn }));
    expect(got).toMatchObject({ inferenceProfileName: 'octw-cell-1.acme.0a1b2c3d', type: 'APPLICATION', models: [{ modelArn: FM }] });
    const byId = await bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: got.inferenceProfileId }));
    expect(byId.inferenceProfileArn).toBe(inferenceProfileArn);
    expect((await bedrock.send(new ListInferenceProfilesCommand({ typeEquals: 'APPLICATION' }))).inferenceProfileSummaries?.map((p) => p.inferenceProfileArn)).toEqual([inferenceProfileArn]);
    expect((await bedrock.send(new ListTagsForResourceCommand({ resourceARN: inferenceProfileArn }))).tags).toEqual(TAGS);
    await bedrock.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: inferenceProfileArn }));
    const gone = await errorOf(() => bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: inferenceProfileArn })));
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
    expect(gone.$metadata?.httpStatusCode).toBe(404);
  });

  it('routes a profile copied from a system cross-Region profile to the model in each of its Regions', async () => {
    const { inferenceProfileArn } = await create('octw-cell-1.acme.cr', `arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.${SONNET}`);
    const got = await bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: inferenceProfileArn }));
    expect(got.models?.map((m) => m.modelArn)).toEqual(['us-east-1', 'us-east-2', 'us-west-2'].map((r) => `arn:aws:bedrock:${r}::foundation-model/${SONNET}`));
  });

  it('answers ValidationException for a bad name and for a model source of another Region or no model at all', async () => {
    for (const [name, source] of [
      ['bad--name!', FM],
      ['x'.repeat(65), FM],
      ['ok-name', `arn:aws:bedrock:eu-west-1::foundation-model/${SONNET}`],
      ['ok-name', 'arn:aws:s3:::bucket'],
    ] as const) {
      const err = await errorOf(() => create(name, source));
      expect({ name, source, err: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name, source, err: 'ValidationException', status: 400 });
      expect(err).toBeInstanceOf(ValidationException);
    }
    expect(h.fake.bedrock.profiles.size).toBe(0);
  });

  it('answers ConflictException for a name in use, and is idempotent for a repeated client token', async () => {
    const token = 'a'.repeat(64);
    const first = await create('octw-cell-1.acme.1', FM, { clientRequestToken: token });
    const again = await create('octw-cell-1.acme.1', FM, { clientRequestToken: token });
    expect(again.inferenceProfileArn).toBe(first.inferenceProfileArn);
    expect(await errorOf(() => create('octw-cell-1.acme.1'))).toBeInstanceOf(ConflictException);
    expect(await errorOf(() => create('octw-cell-1.acme.2', FM, { clientRequestToken: token }))).toBeInstanceOf(ConflictException);
    expect(h.fake.bedrock.profiles.size).toBe(1);
  });

  it('answers ResourceNotFoundException for tags or deletion of an unknown profile', async () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/nope';
    expect(await errorOf(() => bedrock.send(new ListTagsForResourceCommand({ resourceARN: arn })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await errorOf(() => bedrock.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: arn })))).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('Bedrock quotas and throttling', () => {
  it('answers ServiceQuotaExceededException beyond the account quota of application profiles', async () => {
    h = setUp({ limits: { applicationInferenceProfiles: 1 } });
    await create('octw-cell-1.acme.a');
    const err = await errorOf(() => create('octw-cell-1.acme.b'));
    expect(err).toBeInstanceOf(ServiceQuotaExceededException);
    expect(h.fake.bedrock.profiles.size).toBe(1);
  });

  it('throttles CreateInferenceProfile beyond its rate with ThrottlingException (HTTP 429), each attempt in the trace', async () => {
    h = setUp({ throttling: { enabled: true } });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => create(`octw-cell-1.acme.t${i}`)));
    const throttled = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(throttled.length).toBe(3);
    for (const r of throttled) {
      expect(r.reason).toBeInstanceOf(ThrottlingException);
      expect((r.reason as ThrottlingException).$metadata.httpStatusCode).toBe(429);
      // The SDK's own standard retry tried each one 3 times (its default) before giving up.
      expect((r.reason as ThrottlingException).$metadata.attempts).toBe(3);
    }
    expect(h.fake.calls.filter((c) => c.service === 'Bedrock' && c.error?.name === 'ThrottlingException')).toHaveLength(9);
  });
});
