/**
 * The credential provider of every bundled SDK client in Lambda (infra/constructs/bundling.ts
 * aliases `@aws-sdk/credential-provider-node` to this module in function bundles only; tests, the
 * local cloud and the CLI keep the SDK's full chain).
 *
 * Lambda gives a function its role's credentials in the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and that is the only source the functions use. The
 * SDK's default chain also carries the SSO, STS web-identity, login, process and INI providers with
 * their nested clients: about 85 KB of every bundle and their load time, never used here.
 * The variables are read at each resolution, as the SDK's `fromEnv` does.
 */
export interface EnvCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export class CredentialsMissingError extends Error {
  override readonly name = 'CredentialsProviderError';
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): EnvCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new CredentialsMissingError('No AWS credentials in the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them from the function role)');
  }
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** Same shape as `@aws-sdk/credential-provider-node`'s `defaultProvider`: a function of the client config returning a provider. */
export function defaultProvider(_init?: unknown): () => Promise<EnvCredentials> {
  return () => {
    try {
      return Promise.resolve(credentialsFromEnv());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  };
}
