/** Jest global teardown: stops the DynamoDB Local started by jest-global-setup.ts (and waits for it to exit). */
export default async function globalTeardown(): Promise<void> {
  const ddb = globalThis.__octwDynamoDbLocal;
  globalThis.__octwDynamoDbLocal = undefined;
  if (ddb !== undefined) await ddb.stop();
}
