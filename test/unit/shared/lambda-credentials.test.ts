import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { credentialsFromEnv, defaultProvider } from '../../../functions/shared/lambda-credentials';

describe('Lambda credential provider (replaces the SDK default chain in function bundles)', () => {
  it('reads the role credentials Lambda puts in the environment, session token included', () => {
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' })).toEqual({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    });
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' })).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
  });

  it('fails with the SDK error name and says which variables are missing', () => {
    expect(() => credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' })).toThrow(/AWS_SECRET_ACCESS_KEY/);
    expect(() => credentialsFromEnv({})).toThrow(expect.objectContaining({ name: 'CredentialsProviderError' }) as Error);
  });

  it('is accepted by an SDK client as its credential default provider and read at each resolution', async () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_ACCESS_KEY_ID = 'AKIDFIRST';
      process.env.AWS_SECRET_ACCESS_KEY = 'one';
      const client = new DynamoDBClient({ region: 'eu-west-1', credentialDefaultProvider: defaultProvider });
      const credentials = client.config.credentials as () => Promise<{ accessKeyId: string }>;
      await expect(credentials()).resolves.toMatchObject({ accessKeyId: 'AKIDFIRST' });
      delete process.env.AWS_ACCESS_KEY_ID;
      await expect(defaultProvider()()).rejects.toThrow(/AWS_ACCESS_KEY_ID/);
    } finally {
      process.env = saved;
    }
  });
});
