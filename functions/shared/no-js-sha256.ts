/**
 * What every function bundle gets for the AWS SDK's pure-JavaScript SHA-256
 * (`@smithy/core`'s `checksum/sha256/Sha256Js`; infra/constructs/bundling.ts replaces it in function
 * bundles only).
 *
 * The SDK hashes with Node's crypto (`Sha256Node`: SigV4 signing, payload hashes) and keeps the
 * JavaScript implementation as a fallback for a Node whose crypto cannot create a sha256 hash, which
 * Lambda's Node 22 always can; the fallback's tables and rounds were about 3 KB of every bundle. If
 * it were ever chosen, the first hash fails with this error instead of signing with it.
 */
export class Sha256Js {
  constructor(_secret?: unknown) {
    throw new Error(
      "The AWS SDK's JavaScript SHA-256 fallback is not in this function bundle (infra/constructs/bundling.ts): this Node's crypto cannot create a sha256 hash",
    );
  }
}
