/**
 * The one configuration every AWS SDK client of the control plane is built with.
 *
 * Sockets: a Lambda execution environment runs one invocation at a time, and no handler makes more
 * than a few dozen calls at once (the census: one Query per status; a SQS batch of signups). The
 * pool is therefore bounded (`maxSockets`) per client and origin, with keep-alive so a warm
 * container reuses its TLS connections, and a connection timeout so an unreachable endpoint fails
 * the attempt (the SDK retries it) instead of the invocation's budget.
 *
 * The pool is declared as the SDK's NodeHttpHandler options (the client builds its handler from
 * them), so this code imports no `@smithy/*` package of its own.
 */
export const MAX_SOCKETS = 64;

export const CLIENT_CONFIG = {
  requestHandler: {
    httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
    connectionTimeout: 3_000,
  },
} as const;
