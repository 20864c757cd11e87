/**
 * Jest global setup: starts DynamoDB Local once per `jest` run and hands its endpoint to the
 * workers through the environment (workers are forked after this runs and inherit process.env).
 * The SDK v3 honours AWS_ENDPOINT_URL_DYNAMODB, so handler code needs no change.
 *
 * AWS_ENDPOINT_URL points every other service at a closed loopback port: a client that no fake or
 * mock intercepts fails fast with ECONNREFUSED instead of reaching AWS. Tests stay offline.
 *
 * Set OCTW_DYNAMODB_ENDPOINT to reuse a DynamoDB Local you started yourself (nothing is spawned).
 */
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local';

declare global {
  var __octwDynamoDbLocal: DynamoDbLocal | undefined;
}

export default async function globalSetup(): Promise<void> {
  const reuse = process.env.OCTW_DYNAMODB_ENDPOINT;
  let endpoint: string;
  if (reuse !== undefined && reuse !== '') {
    endpoint = reuse;
  } else {
    const ddb = await startDynamoDbLocal();
    globalThis.__octwDynamoDbLocal = ddb;
    endpoint = ddb.endpoint;
    process.env.OCTW_DYNAMODB_START_MS = String(ddb.startMs);
  }
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  process.env.AWS_ENDPOINT_URL ??= 'http://127.0.0.1:9';
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_DEFAULT_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}
