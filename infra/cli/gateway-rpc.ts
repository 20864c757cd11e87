/**
 * A minimal client of the OpenClaw gateway's WebSocket API (protocol 4 of the pinned release) for
 * the operator's commands over a tenant's endpoint: the connect handshake as the platform operator's
 * device (functions/domain/operator-device.ts), then request/response calls whose answers are
 * parsed with the caller's zod schema. Node's own WebSocket (undici); the token never leaves the
 * connect frame and is never printed.
 */
import * as z from 'zod';
import { operatorConnectParams } from '../../functions/domain/operator-device';

/** The gateway answered a call (or the connect) with ok:false, or closed the socket on us. */
export class GatewayCallError extends Error {
  override readonly name = 'GatewayCallError';
  constructor(
    message: string,
    /** The gateway's error code (e.g. NOT_PAIRED, INVALID_REQUEST), when it sent one. */
    readonly code: string | undefined,
    /** `error.details.code` (e.g. AUTH_TOKEN_MISMATCH, PAIRING_REQUIRED). */
    readonly detailCode: string | undefined,
  ) {
    super(message);
  }
}

/** The endpoint could not be reached, or did not speak the gateway's protocol. */
export class GatewayUnreachableError extends Error {
  override readonly name = 'GatewayUnreachableError';
}

const ChallengeSchema = z.object({ type: z.literal('event'), event: z.literal('connect.challenge'), payload: z.object({ nonce: z.string().min(1), ts: z.number().int().nonnegative() }) });
const ErrorShapeSchema = z.object({ code: z.string().optional(), message: z.string().optional(), details: z.object({ code: z.string().optional() }).loose().optional() }).loose();
const ResponseSchema = z.object({ type: z.literal('res'), id: z.string(), ok: z.boolean(), payload: z.unknown().optional(), error: ErrorShapeSchema.optional() });
const HelloOkSchema = z.object({ type: z.literal('hello-ok'), auth: z.object({ role: z.string(), scopes: z.array(z.string()) }).loose() }).loose();

export interface GatewayRpc {
  /** Scopes the gateway granted this connection (hello-ok.auth.scopes). */
  readonly scopes: readonly string[];
  call<S extends z.ZodType>(method: string, params: Record<string, unknown>, schema: S): Promise<z.infer<S>>;
  close(): void;
}

export interface ConnectOptions {
  /** `wss://<tenant>.<domain>/` (or ws:// for a local endpoint). */
  readonly url: string;
  readonly token: string;
  /** Scopes to ask for (a subset of what the operator device is paired with). Default: all of them. */
  readonly scopes?: readonly string[];
  /** Per step (socket open + challenge, connect, each call). Default 20 s. */
  readonly timeoutMs?: number;
}

/** Opens the socket, answers the challenge with the operator device, resolves on hello-ok. */
export async function connectOperator(options: ConnectOptions): Promise<GatewayRpc> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const ws = new WebSocket(options.url);
  const pending = new Map<string, { resolve: (r: z.infer<typeof ResponseSchema>) => void; reject: (e: Error) => void }>();
  let closedWith: Error | undefined;
  let challenge: ((c: { nonce: string; ts: number }) => void) | undefined;
  let challengeFailed: ((e: Error) => void) | undefined;
  const challenged = new Promise<{ nonce: string; ts: number }>((resolve, reject) => {
    challenge = resolve;
    challengeFailed = reject;
  });
  const fail = (e: Error) => {
    closedWith ??= e;
    challengeFailed?.(e);
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  ws.addEventListener('message', (m) => {
    let frame: unknown;
    try {
      frame = JSON.parse(typeof m.data === 'string' ? m.data : String(m.data));
    } catch {
      return;
    }
    const c = ChallengeSchema.safeParse(frame);
    if (c.success) return challenge?.(c.data.payload);
    const r = ResponseSchema.safeParse(frame);
    if (r.success) {
      const p = pending.get(r.data.id);
      pending.delete(r.data.id);
      p?.resolve(r.data);
    }
  });
  ws.addEventListener('error', () => fail(new GatewayUnreachableError(`cannot open a WebSocket to ${options.url}: no gateway answered the upgrade (endpoint down, no route, or the ingress refused it)`)));
  ws.addEventListener('close', (e) => fail(new GatewayCallError(`the gateway closed the connection (${e.code}${e.reason ? `: ${e.reason}` : ''})`, undefined, undefined)));

  let seq = 0;
  const send = async (method: string, params: Record<string, unknown>): Promise<z.infer<typeof ResponseSchema>> => {
    if (closedWith) throw closedWith;
    const id = `octw-${++seq}`;
    return withTimeout(
      new Promise<z.infer<typeof ResponseSchema>>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ type: 'req', id, method, params }));
      }),
      timeoutMs,
      `the gateway did not answer ${method} within ${timeoutMs / 1000} s`,
    );
  };
  const failure = (method: string, r: z.infer<typeof ResponseSchema>) =>
    new GatewayCallError(`${method}: ${r.error?.message ?? 'refused'}`, r.error?.code, r.error?.details?.code);

  try {
    const nonce = await withTimeout(challenged, timeoutMs, `no connect challenge from ${options.url} within ${timeoutMs / 1000} s (not an OpenClaw gateway?)`);
    const hello = await send('connect', operatorConnectParams(options.token, nonce, options.scopes));
    if (!hello.ok) throw failure('connect', hello);
    const ok = HelloOkSchema.safeParse(hello.payload);
    if (!ok.success) throw new GatewayUnreachableError(`the gateway's hello-ok is not the expected shape: ${ok.error.issues[0]?.message ?? ''}`);
    const scopes = ok.data.auth.scopes;
    return {
      scopes,
      async call(method, params, schema) {
        const r = await send(method, params);
        if (!r.ok) throw failure(method, r);
        return parseAnswer(method, r.payload, schema);
      },
      close: () => ws.close(),
    };
  } catch (err) {
    ws.close();
    throw err;
  }
}

/** A call's answer through the caller's schema; anything else is a clear error naming the method. */
export function parseAnswer<S extends z.ZodType>(method: string, payload: unknown, schema: S): z.infer<S> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new GatewayUnreachableError(`${method}: unexpected answer from the gateway: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new GatewayUnreachableError(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
