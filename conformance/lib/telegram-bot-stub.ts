/**
 * A stub of Telegram's Bot API (https://core.telegram.org/bots/api) for the real gateway's Telegram
 * channel, reached through the cell's real Squid as `api.telegram.org:443` (TLS with a certificate
 * the task trusts as its extra CA): long polling with `getUpdates` (honouring `offset`), updates a
 * test queues as if a Telegram user wrote to the bot, and every call the bot makes recorded with its
 * parameters (JSON, form or query), so a test can read what the gateway sent to whom
 * (`sendMessage` to a chat). Answers are Telegram's `{ ok, result }` envelope.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';

export interface BotCall {
  readonly token: string;
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly at: number;
}

export interface TelegramUser {
  readonly id: number;
  readonly firstName: string;
  readonly username: string;
}

export interface TelegramBotStub {
  readonly calls: readonly BotCall[];
  /** Queues a private message from `from` to the bot of `token` (delivered by its next getUpdates). */
  sendPrivateMessage(token: string, from: TelegramUser, text: string): number;
  /** Text of every message the bot sent to `chatId` (sendMessage, and edits of its messages). */
  messagesTo(chatId: number): string[];
  /** Whether the bot of `token` has polled (getUpdates) since `since` (ms epoch). */
  polledSince(token: string, since: number): boolean;
  close(): Promise<void>;
}

/** How long a getUpdates with nothing queued is held before answering `[]` (the bot's timeout is longer; a short hold keeps the stub responsive). */
const HOLD_MS = 1000;

export async function startTelegramBotStub(o: { address: string; port?: number; cert: string; key: string }): Promise<TelegramBotStub> {
  const calls: BotCall[] = [];
  const queues = new Map<string, { update_id: number; message: Record<string, unknown> }[]>();
  let nextUpdateId = 100_000;
  let nextMessageId = 1;
  const waiting = new Set<() => void>();

  const server: Server = createServer({ cert: readFileSync(o.cert), key: readFileSync(o.key) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://api.telegram.org');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        if (res.writableEnded) return;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (!m) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
      const [, token = '', method = ''] = m;
      const params = parseParams(req.headers['content-type'] ?? '', Buffer.concat(chunks).toString('utf8'), url.searchParams);
      calls.push({ token, method, params, at: Date.now() });
      const ok = (result: unknown) => reply(200, { ok: true, result });
      const now = Math.floor(Date.now() / 1000);
      switch (method) {
        case 'getMe':
          return ok({ id: Number(token.split(':')[0]), is_bot: true, first_name: 'OCTW stub', username: 'octw_stub_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
        case 'getUpdates': {
          const offset = Number(params.offset ?? 0);
          const take = () => (queues.get(token) ?? []).filter((u) => u.update_id >= offset);
          const ready = take();
          if (ready.length > 0) return ok(ready);
          const wake = () => {
            waiting.delete(wake);
            clearTimeout(timer);
            ok(take());
          };
          const timer = setTimeout(wake, HOLD_MS);
          waiting.add(wake);
          return;
        }
        case 'getMyCommands':
          return ok([]);
        case 'getWebhookInfo':
          return ok({ url: '', has_custom_certificate: false, pending_update_count: 0 });
        case 'sendMessage':
        case 'sendPhoto':
        case 'sendDocument':
          return ok({ message_id: nextMessageId++, date: now, chat: { id: Number(params.chat_id), type: 'private' }, text: typeof params.text === 'string' ? params.text : '' });
        case 'editMessageText':
          return ok({ message_id: Number(params.message_id ?? 0), date: now, chat: { id: Number(params.chat_id), type: 'private' }, text: typeof params.text === 'string' ? params.text : '' });
        default:
          return ok(true);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 443, o.address, () => resolve());
  });

  return {
    calls,
    sendPrivateMessage(token, from, text) {
      const update_id = nextUpdateId++;
      const user = { id: from.id, is_bot: false, first_name: from.firstName, username: from.username, language_code: 'en' };
      const message = { message_id: nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: from.id, type: 'private', first_name: from.firstName, username: from.username }, from: user, text };
      queues.set(token, [...(queues.get(token) ?? []), { update_id, message }]);
      for (const wake of [...waiting]) wake();
      return update_id;
    },
    messagesTo(chatId) {
      return calls
        .filter((c) => ['sendMessage', 'editMessageText'].includes(c.method) && Number(c.params.chat_id) === chatId && typeof c.params.text === 'string')
        .map((c) => c.params.text as string);
    },
    polledSince(token, since) {
      return calls.some((c) => c.token === token && c.method === 'getUpdates' && c.at >= since);
    },
    close() {
      for (const wake of [...waiting]) wake();
      return new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}

function parseParams(contentType: string, body: string, query: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = Object.fromEntries(query.entries());
  if (body.length === 0) return out;
  if (contentType.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null) Object.assign(out, parsed);
    } catch {
      /* not JSON: recorded without params */
    }
  } else if (contentType.includes('application/x-www-form-urlencoded')) {
    Object.assign(out, Object.fromEntries(new URLSearchParams(body).entries()));
  } else if (contentType.includes('multipart/form-data')) {
    // Text fields only (name="x"\r\n\r\nvalue).
    for (const m of body.matchAll(/name="([^"]+)"\r\n\r\n([^\r]*)\r\n/g)) out[m[1]!] = m[2];
  }
  return out;
}
